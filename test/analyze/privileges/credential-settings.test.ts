/**
 * A setting named like a credential keeps no value in its privilege change (and so in the rules' evidence);
 * a conninfo setting keeps its value without the password; the statement cache keys no such text.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cachedStatements, changesFromStatement, loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';

const S = 'Sup3rS3cret';

describe('values of credential settings', () => {
  before(() => loadStatementParser());

  const cases: [string, string | null][] = [
    [`ALTER SYSTEM SET primary_conninfo = 'host=standby user=rep password=${S} port=5432'`, 'host=standby user=rep password=<REDACTED> port=5432'],
    [`ALTER SYSTEM SET ssl_passphrase_command = 'echo ${S}'`, '<REDACTED>'],
    [`ALTER ROLE r SET app.api_key = '${S}'`, '<REDACTED>'],
    [`ALTER DATABASE d SET app.signing_secret = '${S}'`, null], // not a change the analysis records
    [`ALTER ROLE r IN DATABASE d SET app.auth_token TO '${S}'`, '<REDACTED>'],
    [`ALTER SYSTEM SET app.callback = 'https://u:${S}@hooks.example/x'`, 'https://u:<REDACTED>@hooks.example/x'],
  ];
  for (const [sql, value] of cases) {
    it(sql.replace(S, '…'), () => {
      const changes = changesFromStatement(sql, { truncated: false });
      assert.deepEqual(changes.map((c) => c.value), value === null ? [] : [value]);
      assert.ok(![...cachedStatements()].some((k) => k.includes(S)), 'a secret is a cache key');
    });
  }

  it('keeps policy settings named like passwords in clear: the rules read them', () => {
    assert.equal(changesFromStatement("ALTER SYSTEM SET password_encryption = 'md5'", { truncated: false })[0]!.value, 'md5');
  });
});
