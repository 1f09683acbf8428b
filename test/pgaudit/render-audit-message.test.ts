/**
 * Rendering an entry back gives what pgaudit wrote, and the check the store runs on every audit line
 * (rendersAuditMessage) answers exactly what comparing with the rendered text would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { renderAuditMessage, rendersAuditMessage } from '../../src/pgaudit/index.js';
import { auditEntry } from './audit-entry-arbitrary.js';
import { serializeLikePgaudit } from './serialize-like-pgaudit.js';

describe('renderAuditMessage', () => {
  it('gives back what pgaudit wrote for any entry (property)', () => {
    fc.assert(
      fc.property(auditEntry, (entry) => assert.equal(renderAuditMessage(entry), serializeLikePgaudit(entry))),
      { numRuns: 1000 },
    );
  });

  it('is matched by rendersAuditMessage exactly when the texts are equal, near misses included (property)', () => {
    const nearMiss = fc.tuple(auditEntry, fc.nat(), fc.constantFrom('', ',', '"', '\n', 'x', ',7'), fc.boolean()).map(([entry, at, ch, drop]) => {
      const text = renderAuditMessage(entry);
      const i = at % (text.length + 1);
      return { entry, message: text.slice(0, i) + ch + text.slice(i + (drop ? 1 : 0)) };
    });
    fc.assert(
      fc.property(fc.oneof(auditEntry.map((entry) => ({ entry, message: renderAuditMessage(entry) })), nearMiss), ({ entry, message }) => {
        assert.equal(rendersAuditMessage(entry, message), renderAuditMessage(entry) === message);
      }),
      { numRuns: 2000 },
    );
  });
});
