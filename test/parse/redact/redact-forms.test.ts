/**
 * Forms the lexer used to miss (issue 14): each text holds the secret `S3cr3tVal`, which must not survive
 * redaction, and redacting again changes nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets } from '../../../src/parse/redact/index.js';

const S = 'S3cr3tVal';

const FORMS: Record<string, string> = {
  'SET of a quoted name': `SET "password" = '${S}'`,
  'SET of a quoted dotted name': `SET app."client_secret" TO '${S}'`,
  'adjacent literals across a newline are one string': `ALTER ROLE r PASSWORD 'a'\n'${S}'`,
  'adjacent E-literals across a newline': `CREATE ROLE r PASSWORD E'x'\n  E'${S}'`,
  'URI password holding a quote': `SELECT dblink_connect('postgresql://u:${S}''x@h/db')`,
  'URI password holding a slash': `application_name=postgresql://u:a/${S}@h/db`,
  'URI password holding an @': `postgresql://u:a@${S}@h:5432/db`,
  'sslpassword in conninfo': `SELECT dblink_connect('host=h sslpassword=${S} dbname=d')`,
  'sslpassword quoted in conninfo': `CREATE SUBSCRIPTION s CONNECTION 'host=h sslpassword=''${S}''' PUBLICATION p`,
  'JSON literal with a password key': `INSERT INTO cfg VALUES ('{"password": "${S}"}')`,
  'JSON key administratorLoginPassword': `{"properties":{"administratorLoginPassword":"${S}"}`,
  'JSON key client_secret with escapes': `{"client_secret":"a\\"${S}"}`,
  'JSON-escaped SQL quotes': `{"message":"ALTER ROLE r PASSWORD \\u0027${S}\\u0027"`,
  'ALTER SYSTEM SET of a passphrase command': `ALTER SYSTEM SET ssl_passphrase_command = 'echo ${S}'`,
  'ALTER ROLE SET of an api key': `ALTER ROLE r SET app.api_key = '${S}'`,
  'ALTER DATABASE SET of a signing secret': `ALTER DATABASE d SET app.signing_secret = '${S}'`,
  'SET of an api key to a bare word': `SET app.api_key = ${S}`,
  'postmaster reload line for a conninfo': `parameter "primary_conninfo" changed to "host=h user=u password=${S} port=5432"`,
  'postmaster reload line for a quoted conninfo password': `parameter "primary_conninfo" changed to "host=h password='${S} x'"`,
  'postmaster reload line for a passphrase command': `parameter "ssl_passphrase_command" changed to "echo ${S}"`,
  'JSON parse error quoting the input': `Unexpected token 'x', ..."sword": "${S}"... is not valid JSON`,
  'JSON member with a bare value in broken JSON': `{"password": ${S}}`,
  'set_config of a key setting': `SELECT set_config('app.api_key', '${S}', false)`,
  'JSON in a CSV-quoted pgaudit field': `AUDIT: SESSION,2,1,WRITE,INSERT,,,"INSERT INTO t VALUES ('{""client_secret"":""${S}""}');",<none>`,
  'JSON string whose \\" pairs with nothing but itself': `{"a":"x","message":"LOG:  statement: SET \\"password\\" = '${S}';"}`,
  'JSON string cut inside an escape': `{"message":"LOG:  statement: ALTER ROLE r PASSWORD \\u0027${S}\\u00`,
  'raw DETAIL line of bind values (its statement is on another line)': `2026-12-02 05:37:03 UTC-6b0fae7f.dfa-DETAIL:  parameters: $1 = '${S}', $2 = '4'`,
  'an Azure record cut short, its detail holding bind values': `{"properties":{"message":"execute <unnamed>: SELECT 1","detail":"parameters: $1 = 'alice', $2 = '${S}'"},"ti`,
  'the same with quotes escaped as \\u0027': `{"properties":{"detail":"parameters: $1 = \\u0027alice\\u0027, $2 = \\u0027${S}\\u0027"},"ti`,
  'raw pgaudit line with a bind value at a password position': `LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,SELECT id FROM t WHERE name = $1 AND password = $2,"alice,${S}"`,
  "libpq's URI error quoting a password": `invalid percent-encoded token: "${S}%'q"`,
  "libpq's conninfo error quoting a fragment": `missing "=" after "${S}" in connection info string`,
  'JSON parse error quoting the start of the input': `Unexpected token 'S', "${S}x" is not valid JSON`,
};

describe('forms the redactor must catch', () => {
  for (const [name, text] of Object.entries(FORMS)) {
    it(name, () => {
      const out = redactSecrets(text).text;
      assert.ok(!out.includes(S), out);
      assert.equal(redactSecrets(out).text, out, 'redacting twice changes nothing');
    });
  }
});
