/**
 * Property tests: whatever pgaudit can write, the parser gives back field for field; whatever else
 * arrives, the parser either parses it or throws ParseError, and always returns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { ParseError } from '../../src/contracts/log-record.js';
import { parseAuditMessage } from '../../src/pgaudit/index.js';
import { auditEntry, parameterList, unit } from './audit-entry-arbitrary.js';
import { serializeLikePgaudit, serializeParameters } from './serialize-like-pgaudit.js';

describe('parseAuditMessage properties', () => {
  it('gives back every field of any entry serialised like pgaudit', () => {
    fc.assert(
      fc.property(auditEntry, (entry) => {
        assert.deepEqual(parseAuditMessage(serializeLikePgaudit(entry)), entry);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any bind parameter list through the CSV-in-CSV PARAMETER field', () => {
    fc.assert(
      fc.property(parameterList, fc.boolean(), (list, withRows) => {
        const message = `AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,"INSERT INTO t VALUES ($1)",${serializeParameters(list)}${withRows ? ',7' : ''}`;
        const entry = parseAuditMessage(message);
        assert.deepEqual(entry.parameters, list);
        assert.equal(entry.rows, withRows ? 7 : null);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a trailing line break left over from line splitting', () => {
    fc.assert(
      fc.property(auditEntry, fc.constantFrom('\n', '\r\n', '\r'), (entry, eol) => {
        assert.deepEqual(parseAuditMessage(serializeLikePgaudit(entry) + eol), entry);
      }),
      { numRuns: 300 },
    );
  });

  const garbage = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', '1', '<', '>', ' ', 'SESSION', 'OBJECT', 'READ'), maxLength: 60 }),
    fc.string({ unit, maxLength: 60 }).map((tail) => `AUDIT: SESSION,1,1,READ,${tail}`),
    // A valid entry with one character removed, replaced or inserted somewhere.
    fc
      .tuple(auditEntry, fc.nat(), fc.constantFrom('', ',', '"', '\n', 'x'), fc.nat({ max: 1 }))
      .map(([entry, at, ch, drop]) => {
        const s = serializeLikePgaudit(entry);
        const i = at % (s.length + 1);
        return s.slice(0, i) + ch + s.slice(i + drop);
      }),
  );

  it('either parses arbitrary text or throws ParseError, and always returns', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(garbage, (input) => {
        try {
          parseAuditMessage(input);
        } catch (error) {
          assert.ok(error instanceof ParseError, `threw ${String(error)}`);
          assert.ok(error.message.length > 0);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never echoes field content in its error messages', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 12, maxLength: 40 }), (secret) => {
        const inputs = [
          `AUDIT: ${secret}x,1,1,ROLE,ALTER ROLE,,,x,<none>`,
          `AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,"alter role x password '${secret}`,
          `AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,alter role x password ${secret},<none>,1,2`,
        ];
        for (const input of inputs) {
          try {
            parseAuditMessage(input);
          } catch (error) {
            assert.ok(error instanceof ParseError);
            assert.ok(!error.message.includes(secret), error.message);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
