import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCsvlogDecoder } from '../../../src/decode/postgres/csvlog-decoder.js';
import { splitCsvRecord } from '../../../src/decode/postgres/csv-record.js';
import { splitHostPort } from '../../../src/decode/postgres/connection-from.js';
import type { LogRecord } from '../../../src/contracts/log-record.js';
import { decodeAll, fixtureLines, linesOf } from './decode-lines.js';

const decoder = (maxRecordBytes?: number) =>
  createCsvlogDecoder({ server: 'pg-csv', source: 'postgresql.csv', ...(maxRecordBytes ? { maxRecordBytes } : {}) });
const decode = (text: string) => decodeAll(decoder(), linesOf(text));

/** Verbatim from a run of test/fixtures/postgres-logs/capture.sh (PostgreSQL 15, 26 columns). */
const ERROR_ROW =
  '2026-11-27 00:44:59.801 UTC,"app_owner","appdb",6953,"127.0.0.1:34724",6b08d28b.1b29,8,"SELECT",2026-11-27 00:44:59 UTC,3/7,0,ERROR,42703,"column ""nosuchcol"" does not exist",,,,,,"select nosuchcol from accounts;",8,,"psql-audit","client backend",,0';

test('a real PG15 csvlog decodes into 70 records without dead letters', () => {
  const { records, dead } = decodeAll(decoder(), fixtureLines('pg15-m-p-q.csv'));
  assert.deepEqual(dead, []);
  assert.equal(records.length, 70);
});

test('an ERROR row gives every field, the cursor position rendered as stderr does', () => {
  const { records } = decode(ERROR_ROW);
  assert.deepEqual(records, [{
    server: 'pg-csv', loggedAt: new Date('2026-11-27T00:44:59.801Z'), sessionId: '6b08d28b.1b29', pid: 6953, level: 'ERROR',
    sqlstate: '42703', message: 'column "nosuchcol" does not exist at character 8', detail: null, hint: null,
    statement: 'select nosuchcol from accounts;', userName: 'app_owner', databaseName: 'appdb', clientAddr: '127.0.0.1',
    clientPort: 34724, applicationName: 'psql-audit', source: 'postgresql.csv', position: '0',
  } satisfies LogRecord]);
});

test('a row whose quoted message spans lines is one record at the offset of its first line', () => {
  const { records } = decodeAll(decoder(), fixtureLines('pg15-m-p-q.csv'));
  const stmt = records.find((r) => r.message.startsWith('statement: create role reporter'));
  assert.equal(stmt?.message, "statement: create role reporter\n  login\n  password 'rep-secret'\n  valid until '2030-01-01';");
  const audit = records.find((r) => r.message.startsWith('AUDIT: SESSION,2,1,ROLE'));
  assert.equal(audit?.message, 'AUDIT: SESSION,2,1,ROLE,CREATE ROLE,,,"create role reporter\n  login\n  password <REDACTED>",<not logged>');
  const lines = fixtureLines('pg15-m-p-q.csv');
  assert.equal(stmt?.position, String(lines.find((l) => l.text.includes('"statement: create role reporter'))?.start));
});

test('pendingStart holds the first line of an open row until its closing quote', () => {
  const lines = linesOf([
    '2026-11-27 00:44:59.797 UTC,"app_owner","appdb",6953,"127.0.0.1:34724",6b08d28b.1b29,6,"idle",2026-11-27 00:44:59 UTC,3/6,0,LOG,00000,"statement: create role reporter',
    '  login',
    "  valid until '2030-01-01';\",,,,,,,,,\"psql-audit\",\"client backend\",,0",
  ].join('\n'));
  const d = decoder();
  assert.deepEqual(d.push(lines[0]!), []);
  assert.equal(d.pendingStart(), 0);
  assert.deepEqual(d.push(lines[1]!), []);
  assert.equal(d.pendingStart(), 0);
  const out = d.push(lines[2]!);
  assert.equal(out[0]?.kind, 'record');
  assert.equal(d.pendingStart(), null);
});

test('rows of older versions (22 to 25 columns) are accepted', () => {
  // PostgreSQL 12: 23 columns, ending with application_name.
  const pg12 = '2019-05-20 10:00:00.123 UTC,"postgres","postgres",1234,"[local]",5ce27d6c.4d2,1,"idle",2019-05-20 10:00:00 UTC,3/2,0,LOG,00000,"statement: select 1;",,,,,,,,,"psql"';
  const pg84 = '2019-05-20 10:00:00.123 UTC,"postgres","postgres",1234,"[local]",5ce27d6c.4d2,1,"idle",2019-05-20 10:00:00 UTC,3/2,0,LOG,00000,"statement: select 1;",,,,,,,,';
  const { records, dead } = decode([pg12, pg84].join('\n'));
  assert.deepEqual(dead, []);
  assert.deepEqual(records.map((r) => [r.applicationName, r.clientAddr, r.clientPort]), [['psql', '[local]', null], [null, '[local]', null]]);
});

const BAD_ROWS: { name: string; row: string; reason: RegExp }[] = [
  { name: 'too few columns', row: '2026-11-27 00:44:59.801 UTC,"a","b",1', reason: /has 4 columns, expected 22 to 26/ },
  { name: 'too many columns', row: ERROR_ROW + ',x', reason: /has 27 columns/ },
  { name: 'a time that is not one', row: ERROR_ROW.replace('2026-11-27 00:44:59.801 UTC', 'yesterday'), reason: /log_time 'yesterday'/ },
  { name: 'a pid that is not a number', row: ERROR_ROW.replace(',6953,', ',abc,'), reason: /process_id 'abc'/ },
  { name: 'an unknown severity', row: ERROR_ROW.replace(',ERROR,', ',OOPS,'), reason: /unknown error_severity 'OOPS'/ },
  { name: 'text after a closing quote', row: ERROR_ROW.replace('"appdb"', '"appdb"x'), reason: /malformed CSV/ },
];
for (const c of BAD_ROWS) {
  test(`a csvlog row with ${c.name} is a dead letter and the next row still decodes`, () => {
    const { records, dead } = decode(`${c.row}\n${ERROR_ROW}`);
    assert.equal(dead.length, 1);
    assert.match(dead[0]?.reason ?? '', c.reason);
    assert.equal(dead[0]?.raw, c.row);
    assert.equal(records.length, 1);
  });
}

test('a row still open at the end of input is a dead letter at flush', () => {
  const { dead } = decode('2026-11-27 00:44:59.801 UTC,"app_owner","appdb",6953,"127.0.0.1:1",x,1,"idle",,,0,LOG,00000,"never closed');
  assert.match(dead[0]?.reason ?? '', /malformed CSV/);
});

test('a stray quote cannot swallow the file: past maxRecordBytes the buffer is a dead letter', () => {
  const d = decoder(1000);
  const lines = linesOf(['"stray', ...Array.from({ length: 50 }, () => 'x'.repeat(40)), ERROR_ROW].join('\n'));
  const { records, dead } = decodeAll(d, lines);
  assert.match(dead[0]?.reason ?? '', /open quote after 1000 bytes/);
  assert.equal(dead[0]?.position, '0');
  assert.ok(records.length <= 1);
});

test('a 2 MB statement in a row decodes whole', () => {
  const huge = 'select ' + '"x",'.repeat(500_000);
  const row = ERROR_ROW.replace('"select nosuchcol from accounts;"', `"${huge.replaceAll('"', '""')}"`);
  assert.equal(decode(row).records[0]?.statement, huge);
});

test('splitCsvRecord keeps doubled quotes, commas and newlines inside quotes', () => {
  assert.deepEqual(splitCsvRecord('a,"b,""c""\nd",,""'), ['a', 'b,"c"\nd', '', '']);
  assert.equal(splitCsvRecord('a,b"c'), null);
});

test('connection_from splits at the last colon', () => {
  assert.deepEqual(splitHostPort('127.0.0.1:34724'), { host: '127.0.0.1', port: 34724 });
  assert.deepEqual(splitHostPort('::1:5432'), { host: '::1', port: 5432 });
  assert.deepEqual(splitHostPort('[local]'), { host: '[local]', port: null });
  assert.deepEqual(splitHostPort(''), { host: null, port: null });
});
