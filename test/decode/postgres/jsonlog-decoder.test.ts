import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJsonlogDecoder } from '../../../src/decode/postgres/jsonlog-decoder.js';
import type { LogRecord } from '../../../src/contracts/log-record.js';
import { decodeAll, fixtureLines, linesOf } from './decode-lines.js';

const decoder = () => createJsonlogDecoder({ server: 'pg-json', source: 'postgresql.json' });
const decode = (text: string) => decodeAll(decoder(), linesOf(text));

/** Verbatim from a run of test/fixtures/postgres-logs/capture.sh (PostgreSQL 15). */
const AUTHORIZED = '{"timestamp":"2026-11-27 00:44:59.788 UTC","user":"app_owner","dbname":"appdb","pid":6953,"remote_host":"127.0.0.1","remote_port":34724,"session_id":"6b08d28b.1b29","line_num":3,"ps":"authentication","session_start":"2026-11-27 00:44:59 UTC","vxid":"3/4","txid":0,"error_severity":"LOG","message":"connection authorized: user=app_owner database=appdb application_name=psql-audit","backend_type":"client backend","query_id":0}';
const ERROR = '{"timestamp":"2026-11-27 00:44:59.801 UTC","user":"app_owner","dbname":"appdb","pid":6953,"remote_host":"127.0.0.1","remote_port":34724,"session_id":"6b08d28b.1b29","line_num":8,"ps":"SELECT","session_start":"2026-11-27 00:44:59 UTC","vxid":"3/7","txid":0,"error_severity":"ERROR","state_code":"42703","message":"column \\"nosuchcol\\" does not exist","statement":"select nosuchcol from accounts;","cursor_position":8,"application_name":"psql-audit","backend_type":"client backend","query_id":0}';

test('a real PG15 jsonlog decodes into 70 records without dead letters', () => {
  const { records, dead } = decodeAll(decoder(), fixtureLines('pg15-m-p-q.json'));
  assert.deepEqual(dead, []);
  assert.equal(records.length, 70);
});

test('a LOG line without state_code has sqlstate 00000, as csvlog and Azure say', () => {
  const { records } = decode(AUTHORIZED);
  assert.deepEqual(records, [{
    server: 'pg-json', loggedAt: new Date('2026-11-27T00:44:59.788Z'), sessionId: '6b08d28b.1b29', pid: 6953, level: 'LOG',
    sqlstate: '00000', message: 'connection authorized: user=app_owner database=appdb application_name=psql-audit',
    detail: null, hint: null, statement: null, userName: 'app_owner', databaseName: 'appdb', clientAddr: '127.0.0.1',
    clientPort: 34724, applicationName: null, source: 'postgresql.json', position: '0',
  } satisfies LogRecord]);
});

test('an ERROR line carries its statement and the cursor position rendered as stderr does', () => {
  const r = decode(ERROR).records[0];
  assert.deepEqual([r?.sqlstate, r?.message, r?.statement], ['42703', 'column "nosuchcol" does not exist at character 8', 'select nosuchcol from accounts;']);
});

test('escaped newlines stay inside one line and one record', () => {
  const { records } = decodeAll(decoder(), fixtureLines('pg15-m-p-q.json'));
  assert.equal(records.find((r) => r.message.startsWith('statement: create role reporter'))?.message,
    "statement: create role reporter\n  login\n  password 'rep-secret'\n  valid until '2030-01-01';");
});

const BAD_LINES: { name: string; line: string; reason: RegExp }[] = [
  { name: 'not JSON', line: '{"timestamp": "2026-', reason: /not valid JSON/ },
  { name: 'a JSON array', line: '[1,2]', reason: /not a JSON object/ },
  { name: 'a pid given as a string', line: AUTHORIZED.replace('"pid":6953', '"pid":"6953"'), reason: /key 'pid' is a string, expected a number/ },
  { name: 'a message given as a number', line: AUTHORIZED.replace(/"message":"[^"]*"/, '"message":5'), reason: /key 'message' is a number/ },
  { name: 'no timestamp', line: AUTHORIZED.replace(/"timestamp":"[^"]*",/, ''), reason: /timestamp '' is missing/ },
  { name: 'an unknown severity', line: AUTHORIZED.replace('"LOG"', '"LOUD"'), reason: /unknown error_severity 'LOUD'/ },
  { name: 'an empty line', line: '', reason: /not valid JSON/ },
];
for (const c of BAD_LINES) {
  test(`a jsonlog line with ${c.name} is a dead letter and the next line still decodes`, () => {
    const { records, dead } = decode(`${c.line}\n${ERROR}`);
    assert.equal(dead.length, 1);
    assert.match(dead[0]?.reason ?? '', c.reason);
    assert.equal(dead[0]?.raw, c.line);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.position, String(Buffer.byteLength(c.line) + 1));
  });
}

test('unknown keys from later versions are ignored', () => {
  assert.equal(decode(AUTHORIZED.replace('{', '{"new_key":[1],')).records.length, 1);
});

test('jsonlog never holds lines back', () => {
  const d = decoder();
  d.push(linesOf(AUTHORIZED)[0]!);
  assert.equal(d.pendingStart(), null);
  assert.deepEqual(d.flush(), []);
});
