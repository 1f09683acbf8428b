/** Malformed AUDIT messages become ParseError with a reason that names the problem. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ParseError } from '../../src/contracts/log-record.js';
import { isAuditMessage, parseAuditMessage } from '../../src/pgaudit/index.js';

const MALFORMED: { name: string; text: string; reason: RegExp }[] = [
  { name: 'empty text', text: '', reason: /empty pgaudit AUDIT message/ },
  { name: 'only the prefix', text: 'AUDIT: ', reason: /empty pgaudit AUDIT message/ },
  {
    name: 'quoted statement cut off before its closing quote',
    text: 'AUDIT: SESSION,8,1,ROLE,GRANT,TABLE,,"GRANT SELECT, INSERT\n   ON test2',
    reason: /unterminated quoted field 8/,
  },
  {
    name: 'quoted parameter list cut off',
    text: 'AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,insert into t values ($1),"1,',
    reason: /unterminated quoted field 9/,
  },
  {
    name: 'unterminated quote inside the parameter list (CSV in CSV)',
    text: 'AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,insert into t values ($1),"1,""abc"',
    reason: /unterminated quoted parameter 2/,
  },
  {
    name: '8 fields (PARAMETER missing)',
    text: 'AUDIT: SESSION,2,1,DDL,DROP TABLE,TABLE,public.test,DROP TABLE test',
    reason: /has 8 fields, expected 9 or 10/,
  },
  {
    name: '11 fields',
    text: 'AUDIT: SESSION,6,1,MISC,SET,,,SET pgaudit.log_rows = on,<none>,0,extra',
    reason: /has 11 fields, expected 9 or 10/,
  },
  {
    name: 'an unquoted statement holding a comma reads as too many fields',
    text: 'AUDIT: SESSION,4,1,DDL,CREATE TABLE,TABLE,public.tmp,CREATE TABLE tmp (id int, data text),<none>,1',
    reason: /has 11 fields/,
  },
  { name: 'a single word', text: 'AUDIT: hello', reason: /has 1 field, expected/ },
  {
    name: 'non-numeric statement id',
    text: 'AUDIT: SESSION,x3,1,MISC,SET,,,SET a = 1,<none>',
    reason: /STATEMENT_ID is not a number/,
  },
  {
    name: 'negative substatement id',
    text: 'AUDIT: SESSION,3,-1,MISC,SET,,,SET a = 1,<none>',
    reason: /SUBSTATEMENT_ID is not a number/,
  },
  {
    name: 'empty statement id',
    text: 'AUDIT: SESSION,,1,MISC,SET,,,SET a = 1,<none>',
    reason: /STATEMENT_ID is not a number/,
  },
  {
    name: 'statement id beyond 2^53',
    text: 'AUDIT: SESSION,99999999999999999999,1,MISC,SET,,,SET a = 1,<none>',
    reason: /STATEMENT_ID is beyond 2\^53/,
  },
  {
    name: 'non-numeric rows',
    text: 'AUDIT: SESSION,6,1,MISC,SET,,,SET a = 1,<none>,many',
    reason: /ROWS is not a number/,
  },
  {
    name: 'unknown audit type',
    text: 'AUDIT: SESSIONS,3,1,MISC,SET,,,SET a = 1,<none>',
    reason: /unknown pgaudit audit type \(8 characters\); expected SESSION or OBJECT/,
  },
  {
    name: 'lower-case audit type',
    text: 'AUDIT: session,3,1,MISC,SET,,,SET a = 1,<none>',
    reason: /unknown pgaudit audit type/,
  },
  {
    name: 'class that is not an upper-case word',
    text: 'AUDIT: SESSION,3,1,misc set,SET,,,SET a = 1,<none>',
    reason: /unknown pgaudit class/,
  },
  { name: 'empty command', text: 'AUDIT: SESSION,3,1,MISC,,,,SET a = 1,<none>', reason: /COMMAND is empty/ },
  {
    name: 'text after a closing quote',
    text: 'AUDIT: SESSION,4,1,DDL,CREATE TABLE,TABLE,public.tmp,"CREATE TABLE tmp (id int)"x,<none>',
    reason: /text after the closing quote of field 8/,
  },
  {
    name: 'a bare quote inside an unquoted field',
    text: 'AUDIT: SESSION,4,1,DDL,CREATE TABLE,TABLE,public.tmp,CREATE TABLE "tmp" (id int),<none>',
    reason: /unquoted field 8 holds a quote/,
  },
  {
    name: 'a line break inside an unquoted field (continuation joined without quoting)',
    text: 'AUDIT: SESSION,4,1,DDL,DROP TABLE,TABLE,public.tmp,DROP\nTABLE tmp,<none>',
    reason: /unquoted field 8 holds a line break/,
  },
];

describe('parseAuditMessage rejects malformed entries', () => {
  for (const { name, text, reason } of MALFORMED) {
    it(name, () => {
      assert.throws(() => parseAuditMessage(text), (error: unknown) => {
        assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
        assert.match(error.message, reason);
        return true;
      });
    });
  }
});

describe('parseAuditMessage edge cases that are valid', () => {
  it('keeps a class it does not know, as logged', () => {
    assert.equal(parseAuditMessage('AUDIT: SESSION,3,1,NEWCLASS,SET,,,SET a = 1,<none>').className, 'NEWCLASS');
  });

  it('reads MISC_SET as a class', () => {
    assert.equal(parseAuditMessage('AUDIT: SESSION,3,1,MISC_SET,SET,,,SET a = 1,<none>').className, 'MISC_SET');
  });

  it('reads an empty PARAMETER field as one empty-or-NULL bind parameter', () => {
    const e = parseAuditMessage('AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,insert into t values ($1),');
    assert.equal(e.parameter, null);
    assert.deepEqual(e.parameters, ['']);
  });

  it('reads an empty STATEMENT field as a logged NULL statement', () => {
    const e = parseAuditMessage('AUDIT: SESSION,1,1,MISC,SET,,,,<none>');
    assert.equal(e.statement, null);
    assert.equal(e.statementLogged, 'logged');
  });

  it('reads <not logged>,<not logged> as statement logging turned off', () => {
    const e = parseAuditMessage('AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,<not logged>,<not logged>');
    assert.equal(e.statement, null);
    assert.equal(e.statementLogged, 'not logged');
    assert.equal(e.parameter, '<not logged>');
    assert.equal(e.parameters, null);
  });
});

describe('isAuditMessage', () => {
  const CASES: [string, boolean][] = [
    ['AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>', true],
    ['AUDIT:SESSION,1,1,READ,SELECT,,,select 1,<none>', false],
    ['statement: select 1', false],
    ['', false],
    ['audit: SESSION', false],
  ];
  for (const [text, expected] of CASES) {
    it(`${expected ? 'accepts' : 'rejects'} ${JSON.stringify(text.slice(0, 20))}`, () => {
      assert.equal(isAuditMessage(text), expected);
    });
  }
});
