/**
 * A password literal is an md5 hash or a SCRAM verifier only in the exact shapes PostgreSQL's
 * get_password_type accepts; everything else is a plain password the server hashes itself.
 * The same cases are checked against a real server in password-type-real-postgres.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { passwordType } from '../../../src/parse/redact/password-type.js';
import { passwordStrength } from '../../../src/analyze/privileges/password-strength.js';
import { changesFromStatement, loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { PASSWORD_TYPE_CASES } from './password-type-cases.js';

describe('passwordType follows get_password_type', () => {
  for (const c of PASSWORD_TYPE_CASES) {
    it(`${c.name} is ${c.type}`, () => assert.equal(passwordType(c.literal), c.type));
  }
});

describe('the privilege analysis and the redactor use the same rule', () => {
  it('PASSWORD with MD5 in capitals is a clear-text password, not an md5 hash', async () => {
    await loadStatementParser();
    const upper = `MD5${'d'.repeat(32)}`;
    const [change] = changesFromStatement(`ALTER ROLE r PASSWORD '${upper}'`, { truncated: false });
    assert.equal(change?.value, 'clear');
    assert.equal(passwordStrength(upper).isMd5Hash, false);
  });
  it('a verifier whose keys are not 32 bytes is a clear-text password', async () => {
    await loadStatementParser();
    const [change] = changesFromStatement("ALTER ROLE r PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'", { truncated: false });
    assert.equal(change?.value, 'clear');
  });
});
