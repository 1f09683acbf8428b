import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNoSecrets, redactCsvlog, redactJsonlog, redactStderr, type Redact } from '../../scripts/redact-log-files.js';

/**
 * A stand-in for redactSecrets that knows the test passwords, so these tests prove the file handling
 * (record boundaries, byte-for-byte preservation), not the redactor. It counts the texts it sees.
 */
function fakeRedactor(): Redact & { seen: string[] } {
  const seen: string[] = [];
  const redact = (text: string) => {
    seen.push(text);
    return { text: text.replace(/fake-[A-Za-z0-9-]+/g, '<REDACTED>') };
  };
  return Object.assign(redact, { seen });
}

/** Verbatim output of PostgreSQL 15.18 + pgaudit 1.7 (test harness, `%t-%c-`), with test passwords. */
const STDERR = `2026-11-27 00:49:04 UTC-6b08d380.3108-LOG:  AUDIT: SESSION,1,1,FUNCTION,DO,,,"DO $$
\tBEGIN
\t  EXECUTE 'CREATE ROLE svc_backup LOGIN PASSWORD ''fake-backup-Pw-5555''';
\tEND
\t$$;",<none>
2026-11-27 00:49:04 UTC-6b08d380.3108-LOG:  AUDIT: SESSION,1,2,ROLE,CREATE ROLE,,,CREATE ROLE svc_backup LOGIN PASSWORD <REDACTED>,<none>
2026-11-27 00:49:04 UTC-6b08d380.3108-LOG:  statement: ALTER ROLE svc_backup PASSWORD 'fake-orders-Pw-rotated-3333';
`;

const CSVLOG = `2026-11-27 00:49:04.680 UTC,"postgres","postgres",12552,"127.0.0.1:47856",6b08d380.3108,4,"DO",2026-11-27 00:49:04 UTC,3/6,0,LOG,00000,"AUDIT: SESSION,1,1,FUNCTION,DO,,,""DO $$
BEGIN
  EXECUTE 'CREATE ROLE svc_backup LOGIN PASSWORD ''fake-backup-Pw-5555''';
END
$$;"",<none>",,,,,,,,,"psql","client backend",,0
2026-11-27 00:49:04.687 UTC,"postgres","postgres",12552,"127.0.0.1:47856",6b08d380.3108,5,"DO",2026-11-27 00:49:04 UTC,3/6,727,LOG,00000,"AUDIT: SESSION,1,2,ROLE,CREATE ROLE,,,CREATE ROLE svc_backup LOGIN PASSWORD <REDACTED>,<none>",,,,,,,,,"psql","client backend",,0
2026-11-27 00:48:10.882 UTC,,,10741,,6b08d34a.29f5,1,,2026-11-27 00:48:10 UTC,,0,LOG,00000,"starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit",,,,,,,,,"","postmaster",,0
`;

const JSONLOG = `{"timestamp":"2026-11-27 00:49:04.687 UTC","user":"postgres","dbname":"postgres","pid":12552,"remote_host":"127.0.0.1","remote_port":47856,"session_id":"6b08d380.3108","line_num":5,"ps":"DO","session_start":"2026-11-27 00:49:04 UTC","vxid":"3/6","txid":727,"error_severity":"LOG","message":"AUDIT: SESSION,1,2,ROLE,CREATE ROLE,,,CREATE ROLE svc_backup LOGIN PASSWORD <REDACTED>,<none>","application_name":"psql","backend_type":"client backend","query_id":0}
{"timestamp":"2026-11-27 00:49:04.688 UTC","user":"postgres","dbname":"postgres","pid":12552,"remote_host":"127.0.0.1","remote_port":47856,"session_id":"6b08d380.3108","line_num":7,"ps":"idle","session_start":"2026-11-27 00:49:04 UTC","vxid":"3/8","txid":0,"error_severity":"LOG","message":"statement: ALTER ROLE svc_backup PASSWORD 'fake-orders-Pw-rotated-3333';","application_name":"psql","backend_type":"client backend","query_id":0}
`;

describe('redactStderr', () => {
  it('gives the redactor a multi-line entry whole, with its tab-indented continuation lines', async () => {
    const redact = fakeRedactor();
    const out = await redactStderr(STDERR, redact);
    assert.ok(redact.seen.some((text) => text.startsWith('2026-11-27 00:49:04 UTC-6b08d380.3108-LOG:  AUDIT: SESSION,1,1,FUNCTION,DO') && text.endsWith('\t$$;",<none>')));
    assert.equal(out.includes('fake-'), false);
    assert.match(out, /^\t {2}EXECUTE 'CREATE ROLE svc_backup LOGIN PASSWORD ''<REDACTED>''';$/m);
    assert.match(out, /LOG: {2}statement: ALTER ROLE svc_backup PASSWORD '<REDACTED>';$/m);
  });

  it('keeps a text without secrets unchanged, line count and final newline included', async () => {
    const clean = STDERR.replace(/fake-[A-Za-z0-9-]+/g, 'x');
    assert.equal(await redactStderr(clean, fakeRedactor()), clean);
  });
});

describe('redactCsvlog', () => {
  it('redacts inside a quoted multi-line field and leaves the other records byte for byte', async () => {
    const out = await redactCsvlog(CSVLOG, fakeRedactor());
    assert.equal(out.includes('fake-'), false);
    assert.ok(out.includes(`LOGIN PASSWORD ''<REDACTED>''';`));
    const [, second, third] = CSVLOG.split(/\n(?=2026)/);
    assert.ok(out.includes(second!), 'untouched record kept');
    assert.ok(out.includes(third!), 'untouched record kept, with its quoted empty application_name');
    assert.equal(out.split('\n').length, CSVLOG.split('\n').length);
  });
});

describe('redactJsonlog', () => {
  it('redacts string values, returns the parsed records, and keeps unchanged lines verbatim', async () => {
    const { text, records } = await redactJsonlog(JSONLOG, fakeRedactor());
    const [first, second] = text.split('\n');
    assert.equal(first, JSONLOG.split('\n')[0]);
    assert.equal(JSON.parse(second!).message, "statement: ALTER ROLE svc_backup PASSWORD '<REDACTED>';");
    assert.equal(records.length, 2);
    assert.equal(records[1]!.message, "statement: ALTER ROLE svc_backup PASSWORD '<REDACTED>';");
    assert.equal(records[1]!.pid, 12552);
  });
});

describe('assertNoSecrets', () => {
  it('names the file and the secret number, never the secret', () => {
    const files = new Map([['postgres/postgresql.log', 'password fake-backup-Pw-5555 left']]);
    assert.throws(
      () => assertNoSecrets(files, ['fake-dba-Pw-1111', 'fake-backup-Pw-5555']),
      (error: Error) => error.message.includes('#2') && error.message.includes('postgres/postgresql.log') && !error.message.includes('fake-backup'),
    );
  });

  it('passes when no secret is present', () => {
    assert.doesNotThrow(() => assertNoSecrets(new Map([['a', 'clean']]), ['fake-dba-Pw-1111']));
  });
});
