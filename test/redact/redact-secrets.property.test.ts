import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { redactSecrets, redactParameters, SECRET_HINT } from '../../src/redact/index.js';

const REDACTED = '<REDACTED>';

// How a password is written as a literal at one SQL level.
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const eString = (s: string) => `E'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
function dollarTag(body: string): string {
  for (let n = 0; ; n++) {
    const tag = `$q${n}$`;
    if (!body.includes(tag) && (body + tag).indexOf(tag) === body.length) return tag;
  }
}
const dollarString = (s: string) => {
  const tag = dollarTag(s);
  return `${tag}${s}${tag}`;
};
/** libpq conninfo quoting: backslash escapes quote and backslash. */
const conninfoValue = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

const LITERALS: Record<string, (pw: string) => string> = {
  plain: sqlString,
  escape: eString,
  dollar: dollarString,
};

/** Statements with a hole where the literal goes. */
const STATEMENTS: Record<string, (literal: string) => string> = {
  'create role': (l) => `CREATE ROLE r LOGIN PASSWORD ${l} VALID UNTIL 'infinity'`,
  'alter user with quoted name': (l) => `ALTER USER "my password role" WITH ENCRYPTED PASSWORD ${l};`,
  'user mapping': (l) => `CREATE USER MAPPING FOR bob SERVER foo OPTIONS (user 'bob', password ${l})`,
  'update password column': (l) => `UPDATE users SET password = ${l} WHERE id = 1`,
  'set secret setting': (l) => `SET app.secret = ${l}`,
  'dblink conninfo': (l) => `SELECT dblink_connect(${sqlString(`host=h password=${l} dbname=d`)})`,
};

/** Wrappers that nest a statement one more quoting level down (or into a log line). */
const WRAPPERS: Record<string, (stmt: string, tag: string) => string> = {
  none: (s) => s,
  'log_statement line': (s) => `LOG:  statement: ${s}`,
  'DO execute': (s, tag) => `do ${tag} begin execute ${sqlString(s)}; end ${tag}`,
  'DO in DO': (s, tag) => {
    const inner = `do $in$ begin execute ${sqlString(s)}; end $in$`;
    return `do ${tag} begin execute ${sqlString(inner)}; end ${tag}`;
  },
};

const nasty = fc.constantFrom("'", "''", '\\', '$', '$$', '$q0$', '\n', '"', ' ', ';', '=', '--', '/*', '*/', 'password ', 'E', '&', '@', ':', 'é', '😀', '\u0000');
const password = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: nasty, maxLength: 12 }),
  fc.string({ unit: fc.oneof(nasty, fc.constantFrom('a', 'Z', '7')), minLength: 4, maxLength: 16 }),
).filter((pw) => pw !== REDACTED);

const codePoints = (s: string) => [...s].length;

describe('property: an embedded password never survives redaction', () => {
  for (const [statementName, statement] of Object.entries(STATEMENTS)) {
    for (const [wrapperName, wrap] of Object.entries(WRAPPERS)) {
      for (const [literalName, literal] of Object.entries(LITERALS)) {
        const conninfo = statementName === 'dblink conninfo';
        if (conninfo && literalName !== 'plain') continue; // conninfo has one quoting of its own
        it(`${statementName} / ${literalName} literal / ${wrapperName}`, () => {
          fc.assert(
            fc.property(password, (pw) => {
              const lit = conninfo ? conninfoValue(pw) : literal(pw);
              const raw = statement(lit);
              const tag = dollarTag(raw);
              const input = wrap(raw, tag);
              const expected = wrap(statement(`'${REDACTED}'`), tag);
              const out = redactSecrets(input);
              assert.equal(out.text, expected);
              if (codePoints(pw) >= 4 && !expected.includes(pw)) assert.ok(!out.text.includes(pw));
              assert.equal(out.secrets.length, 1);
              assert.equal(out.secrets[0]?.length, codePoints(pw));
              const again = redactSecrets(out.text);
              assert.equal(again.text, out.text);
              assert.equal(again.secrets.length, 0);
            }),
            { numRuns: 150 },
          );
        });
      }
    }
  }

  it('a bind parameter in PASSWORD position is always redacted', () => {
    fc.assert(
      fc.property(password, (pw) => {
        const r = redactParameters('ALTER ROLE r PASSWORD $1', [pw]);
        assert.deepEqual(r.parameters, [REDACTED]);
        assert.equal(r.secrets[0]?.length, codePoints(pw));
      }),
    );
  });

  it('a URL password is always redacted', () => {
    const urlSafe = fc.string({ unit: fc.constantFrom('a', 'B', '9', '%', ':', '!', '$', '&', '@', '~'), minLength: 1, maxLength: 16 });
    fc.assert(
      fc.property(urlSafe, (pw) => {
        fc.pre(pw !== REDACTED);
        const out = redactSecrets(`connecting to postgresql://app:${pw}@db.example.com:5432/prod`);
        assert.equal(out.text, `connecting to postgresql://app:${REDACTED}@db.example.com:5432/prod`);
        assert.equal(out.secrets.length, 1);
      }),
    );
  });
});

describe('property: text without secrets is returned unchanged', () => {
  it('text without a secret hint is the same string, with no findings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        fc.pre(!SECRET_HINT.test(s));
        const r = redactSecrets(s);
        assert.equal(r.text, s);
        assert.deepEqual(r.secrets, []);
      }),
    );
  });

  it('SQL that only names passwords (no literal value) is unchanged', () => {
    const words = fc.constantFrom('password', 'PASSWORD', '"password"', 'rolpassword', 'password_resets', 'secret_level', 'NULL', 'IS', 'IS NOT NULL', 'SELECT', 'FROM', 'WHERE', ',', '(', ')', '>', '1', 'LOGIN', '<REDACTED>', '$1');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 20 }), (parts) => {
        const s = parts.join(' ');
        assert.equal(redactSecrets(s).text, s);
      }),
    );
  });

  it('redaction is idempotent on arbitrary SQL-ish text', () => {
    const pieces = fc.constantFrom("'", "''", '"', '$$', '$t$', 'password', 'PASSWORD ', ' = ', 'password=', 'E', 'x', ' ', '\n', '--', '/*', '*/', '\\', '(', ')', ',', 'options', 'format(', '%L', '||', 'postgres://u:p@h', 'secret', 'Key (password)=(', ') already exists', "E'", "U&'", "\\'", '$a$', '$1', 'set ', 'app.key', ' to ', 'quote_literal(', 'crypt(', '<REDACTED>', "'<REDACTED>'", 'sig=', 'PGPASSWORD=', ':=', '?', '&', ';');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 30 }), (parts) => {
        const once = redactSecrets(parts.join('')).text;
        assert.equal(redactSecrets(once).text, once);
      }),
      { numRuns: 3000 },
    );
  });
});
