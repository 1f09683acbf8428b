import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../../src/parse/prefix/compile-prefix.js';
import { createStderrDecoder } from '../../../src/decode/postgres/stderr-decoder.js';
import type { LogRecord } from '../../../src/decode/log-record.js';
import { decodeAll, fixtureLines, linesOf } from './decode-lines.js';

const decoderFor = (prefix: string) =>
  createStderrDecoder({ prefix: compilePrefix(prefix), server: 'flex-prod', source: 'postgresql.log' });
const decode = (prefix: string, text: string) => decodeAll(decoderFor(prefix), linesOf(text));

const FIXTURES = [
  { file: 'pg15-m-p-q.log', prefix: '%m [%p] %q%u@%d ' },
  { file: 'pg15-azure.log', prefix: AZURE_LOG_LINE_PREFIX },
  { file: 'pg15-user-db-app.log', prefix: '%m user=%u,db=%d,app=%a,client=%h ' },
  { file: 'pg15-no-separator.log', prefix: '%t:%r:%u@%d:[%p]:' },
];
for (const f of FIXTURES) {
  test(`real PG15 log with prefix '${f.prefix}' decodes into the 70 entries of its csvlog, no dead letters`, () => {
    const { records, dead } = decodeAll(decoderFor(f.prefix), fixtureLines(f.file));
    assert.deepEqual(dead, []);
    assert.equal(records.length, 70);
    assert.ok(records.every((r) => r.server === 'flex-prod' && r.source === 'postgresql.log'));
  });
}

test('a user=%u,db=%d,app=%a,client=%h prefix fills the session fields of a record', () => {
  const { records } = decodeAll(decoderFor('%m user=%u,db=%d,app=%a,client=%h '), fixtureLines('pg15-user-db-app.log'));
  const audit = records.find((r) => r.message.startsWith('AUDIT: SESSION,1,1,DDL,CREATE TABLE'));
  assert.ok(audit);
  assert.deepEqual(
    [audit.userName, audit.databaseName, audit.applicationName, audit.clientAddr, audit.loggedAt.getUTCMilliseconds() >= 0],
    ['app_owner', 'appdb', 'psql-audit', '127.0.0.1', true],
  );
});

test("Azure's %t-%c- gives whole seconds, the session id, and nulls for what the prefix does not say", () => {
  const { records } = decode(AZURE_LOG_LINE_PREFIX,
    '2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role backdoor login password <REDACTED>,<none>\n');
  assert.deepEqual(records, [{
    server: 'flex-prod', loggedAt: new Date('2026-11-24T14:55:15Z'), sessionId: '6b05a553.26bf', pid: null, level: 'LOG',
    sqlstate: null, message: 'AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role backdoor login password <REDACTED>,<none>',
    detail: null, hint: null, statement: null, userName: null, databaseName: null, clientAddr: null, clientPort: null,
    applicationName: null, source: 'postgresql.log', position: '0',
  } satisfies LogRecord]);
});

test('tab continuation lines join the message with newlines, one tab stripped', () => {
  const { records } = decode('%m [%p] %q%u@%d ', [
    "2026-11-27 00:44:37.402 UTC [5869] app_owner@appdb LOG:  statement: create role reporter",
    '\t  login',
    "\t  password 'rep-secret'",
    "\t  valid until '2030-01-01';",
    '2026-11-27 00:44:37.402 UTC [5869] app_owner@appdb ERROR:  permission denied to create role',
  ].join('\n'));
  assert.equal(records[0]?.message, "statement: create role reporter\n  login\n  password 'rep-secret'\n  valid until '2030-01-01';");
  assert.equal(records[1]?.message, 'permission denied to create role');
});

test('ERROR is paired with its DETAIL and STATEMENT; CONTEXT is consumed, not kept', () => {
  const { records, dead } = decode(AZURE_LOG_LINE_PREFIX, [
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-ERROR:  duplicate key value violates unique constraint "accounts_pkey"',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-DETAIL:  Key (id)=(1) already exists.',
    "2026-11-27 00:45:02 UTC-6b08d28e.1c58-STATEMENT:  insert into accounts values (1, 'dup@example.com');",
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-NOTICE:  notice with extras',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-DETAIL:  the detail',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-HINT:  the hint',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE',
    '\tmore context',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-ERROR:  column "nosuch" does not exist at character 18',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-STATEMENT:  select 1,',
    '\t  2,',
    '\t  nosuch as multi_line;',
  ].join('\n'));
  assert.deepEqual(dead, []);
  assert.deepEqual(records.map((r) => [r.level, r.message, r.detail, r.hint, r.statement]), [
    ['ERROR', 'duplicate key value violates unique constraint "accounts_pkey"', 'Key (id)=(1) already exists.', null,
      "insert into accounts values (1, 'dup@example.com');"],
    ['NOTICE', 'notice with extras', 'the detail', 'the hint', null],
    ['ERROR', 'column "nosuch" does not exist at character 18', null, null, 'select 1,\n  2,\n  nosuch as multi_line;'],
  ]);
});

test('a DETAIL with continuation lines keeps them in detail', () => {
  const { records } = decode('%m [%p] %q%u@%d ', [
    '2026-11-27 00:44:37.475 UTC [5873] nobody@appdb FATAL:  password authentication failed for user "nobody"',
    '2026-11-27 00:44:37.475 UTC [5873] nobody@appdb DETAIL:  Role "nobody" does not exist.',
    '\tConnection matched pg_hba.conf line 91: "host    all             all             127.0.0.1/32            scram-sha-256"',
  ].join('\n'));
  assert.equal(records[0]?.detail,
    'Role "nobody" does not exist.\nConnection matched pg_hba.conf line 91: "host    all             all             127.0.0.1/32            scram-sha-256"');
});

test('a STATEMENT of another session is a dead letter with its continuation, not glued to the wrong entry', () => {
  const { records, dead } = decode(AZURE_LOG_LINE_PREFIX, [
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-ERROR:  boom',
    '2026-11-27 00:45:02 UTC-6b08d28e.9999-STATEMENT:  select boom();',
    '\tcontinued',
  ].join('\n'));
  assert.equal(records[0]?.statement, null);
  assert.deepEqual(dead.map((d) => [d.reason, d.raw]), [
    ['STATEMENT line has no log entry of the same session before it', '2026-11-27 00:45:02 UTC-6b08d28e.9999-STATEMENT:  select boom();\n\tcontinued'],
  ]);
});

test('a dead line and its tab continuations are one dead letter: a password on the next line stays with its statement', () => {
  const { dead } = decode(AZURE_LOG_LINE_PREFIX, [
    '[2026-11-27 00:45:02] LOG:  statement: ALTER ROLE r PASSWORD',
    "\t'Sup3rS3cret' VALID UNTIL 'infinity';",
    '\tlonely first',
  ].join('\n'));
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.raw, "[2026-11-27 00:45:02] LOG:  statement: ALTER ROLE r PASSWORD\n\t'Sup3rS3cret' VALID UNTIL 'infinity';\n\tlonely first");
  assert.deepEqual(decode(AZURE_LOG_LINE_PREFIX, '\tlonely\n\tand another').dead.map((d) => [d.position, d.raw]), [['0', '\tlonely\n\tand another']]);
});

test('a wrong prefix turns lines into dead letters with the prefix in the reason, and decoding goes on', () => {
  const lines = fixtureLines('pg15-m-p-q.log');
  const { records, dead } = decodeAll(decoderFor(AZURE_LOG_LINE_PREFIX), lines);
  assert.equal(records.length, 0);
  assert.equal(dead.length, lines.filter((l) => !l.text.startsWith('\t')).length);
  assert.equal(dead.map((d) => d.raw).join('\n'), lines.map((l) => l.text).join('\n'), 'every line is in a dead letter');
  assert.equal(dead[0]?.reason, "line does not match log_line_prefix '%t-%c-'");
  assert.equal(dead[0]?.raw, lines[0]?.text);
  assert.equal(dead[0]?.position, '0');
});

test('a foreign line in the middle of a good file is one dead letter; the entries around it survive', () => {
  const { records, dead } = decode(AZURE_LOG_LINE_PREFIX, [
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-LOG:  first',
    'Segmentation fault (core dumped)',
    '\tnot a continuation of "first": it follows a dead line',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-LOG:  second',
  ].join('\n'));
  assert.deepEqual(records.map((r) => r.message), ['first', 'second']);
  assert.deepEqual(dead.map((d) => d.raw), ['Segmentation fault (core dumped)\n\tnot a continuation of "first": it follows a dead line']);
});

test('unknown levels, bad zones and prefixes without time become dead letters, never exceptions', () => {
  assert.equal(decode(AZURE_LOG_LINE_PREFIX, '2026-11-27 00:45:02 UTC-6b08d28e.1c58-FEHLER:  x').dead.length, 1);
  const badZone = decode(AZURE_LOG_LINE_PREFIX, '2026-11-27 00:45:02 IST-6b08d28e.1c58-LOG:  x');
  assert.match(badZone.dead[0]?.reason ?? '', /unknown zone/);
  const noTime = decode('[%p] ', '[12] LOG:  x');
  assert.equal(noTime.dead[0]?.reason, "log_line_prefix '[%p] ' has no %t, %m or %n: the record has no time");
  assert.deepEqual(decode(AZURE_LOG_LINE_PREFIX, '\tlonely').dead.map((d) => d.position), ['0']);
});

test('a 2 MB statement on one line decodes whole', () => {
  const huge = `select '${'x'.repeat(2_000_000)}' as huge, nosuch`;
  const { records } = decode(AZURE_LOG_LINE_PREFIX, [
    '2026-11-27 00:45:02 UTC-6b08d28e.1c88-ERROR:  column "nosuch" does not exist at character 2000020',
    `2026-11-27 00:45:02 UTC-6b08d28e.1c88-STATEMENT:  ${huge}`,
  ].join('\n'));
  assert.equal(records[0]?.statement, huge);
});

test('the real 40 kB statement from the fixture is kept whole', () => {
  const { records } = decodeAll(decoderFor(AZURE_LOG_LINE_PREFIX), fixtureLines('pg15-azure.log'));
  const huge = records.find((r) => r.statement?.startsWith("select 'xxx"));
  assert.equal(huge?.statement?.length, "select '' as huge, nosuch;".length + 40_000);
});

test('pendingStart is the offset of the held entry until the next entry or flush emits it', () => {
  const text = [
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-ERROR:  boom',
    '2026-11-27 00:45:02 UTC-6b08d28e.1c58-STATEMENT:  select',
    '\tboom();',
    '2026-11-27 00:45:03 UTC-6b08d28e.1c58-LOG:  next',
  ].join('\n');
  const lines = linesOf(text);
  const d = decoderFor(AZURE_LOG_LINE_PREFIX);
  assert.equal(d.pendingStart(), null);
  assert.deepEqual(d.push(lines[0]!), []);
  assert.equal(d.pendingStart(), 0);
  assert.deepEqual(d.push(lines[1]!), []);
  assert.deepEqual(d.push(lines[2]!), []);
  assert.equal(d.pendingStart(), 0);
  const out = d.push(lines[3]!);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.kind === 'record' && out[0].record.statement, 'select\nboom();');
  assert.equal(out[0]?.kind === 'record' && out[0].record.position, '0');
  assert.equal(d.pendingStart(), lines[3]!.start);
  const last = d.flush();
  assert.equal(last[0]?.kind === 'record' && last[0].record.position, String(lines[3]!.start));
  assert.equal(d.pendingStart(), null);
});

test('resuming at pendingStart after a stop decodes the held entry again, and nothing is lost', () => {
  const lines = fixtureLines('pg15-azure.log');
  const all = decodeAll(decoderFor(AZURE_LOG_LINE_PREFIX), lines).records;
  const cut = 30;
  const first = decoderFor(AZURE_LOG_LINE_PREFIX);
  const before = lines.slice(0, cut).flatMap((l) => first.push(l)).flatMap((r) => (r.kind === 'record' ? [r.record] : []));
  const resumeAt = first.pendingStart();
  assert.notEqual(resumeAt, null);
  const rest = decodeAll(decoderFor(AZURE_LOG_LINE_PREFIX), lines.filter((l) => l.start >= (resumeAt as number))).records;
  assert.deepEqual([...before, ...rest], all);
});
