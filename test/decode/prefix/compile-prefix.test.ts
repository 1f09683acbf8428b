import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AZURE_LOG_LINE_PREFIX,
  compilePrefix,
  splitLevel,
  validatePrefix,
  type PrefixMatch,
} from '../../../src/decode/prefix/compile-prefix.js';

const at = (iso: string): Date => new Date(iso);

/** Lines from runs of test/fixtures/postgres-logs/capture.sh (a real PostgreSQL 15 server) and Azure records; the last cases are built to reach every escape. */
const MATCHES: { name: string; prefix: string; line: string; expect: Omit<PrefixMatch, 'rest'>; rest: string }[] = [
  {
    name: "Azure's %t-%c- with an AUDIT line",
    prefix: AZURE_LOG_LINE_PREFIX,
    line: '2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role backdoor login password <REDACTED>,<none>',
    expect: { level: 'LOG', loggedAt: at('2026-11-24T14:55:15Z'), sessionId: '6b05a553.26bf' },
    rest: 'LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role backdoor login password <REDACTED>,<none>',
  },
  {
    name: "Azure's %t-%c- with a STATEMENT line",
    prefix: AZURE_LOG_LINE_PREFIX,
    line: '2026-11-27 00:45:02 UTC-6b08d28e.1c58-STATEMENT:  select nosuchcol from accounts;',
    expect: { level: 'STATEMENT', loggedAt: at('2026-11-27T00:45:02Z'), sessionId: '6b08d28e.1c58' },
    rest: 'STATEMENT:  select nosuchcol from accounts;',
  },
  {
    name: '%m [%p] %q%u@%d with a client backend',
    prefix: '%m [%p] %q%u@%d ',
    line: '2026-11-27 00:44:37.402 UTC [5869] app_owner@appdb ERROR:  permission denied to create role',
    expect: { level: 'ERROR', loggedAt: at('2026-11-27T00:44:37.402Z'), pid: 5869, userName: 'app_owner', databaseName: 'appdb' },
    rest: 'ERROR:  permission denied to create role',
  },
  {
    name: '%m [%p] %q%u@%d with a background process stops at %q',
    prefix: '%m [%p] %q%u@%d ',
    line: '2026-11-27 00:44:37.752 UTC [5857] LOG:  checkpoint starting: immediate force wait',
    expect: { level: 'LOG', loggedAt: at('2026-11-27T00:44:37.752Z'), pid: 5857 },
    rest: 'LOG:  checkpoint starting: immediate force wait',
  },
  {
    name: '%u and %d print [unknown] before authentication, which is no value',
    prefix: '%m [%p] %q%u@%d ',
    line: '2026-11-27 00:44:37.390 UTC [5869] [unknown]@[unknown] LOG:  connection received: host=127.0.0.1 port=41556',
    expect: { level: 'LOG', loggedAt: at('2026-11-27T00:44:37.390Z'), pid: 5869 },
    rest: 'LOG:  connection received: host=127.0.0.1 port=41556',
  },
  {
    name: 'user=%u,db=%d,app=%a,client=%h in a +04 zone',
    prefix: '%m user=%u,db=%d,app=%a,client=%h ',
    line: '2026-11-27 04:45:05.141 +04 user=app_owner,db=appdb,app=psql-audit,client=127.0.0.1 LOG:  statement: create table accounts (id int primary key, email text);',
    expect: {
      level: 'LOG', loggedAt: at('2026-11-27T00:45:05.141Z'), userName: 'app_owner', databaseName: 'appdb',
      applicationName: 'psql-audit', clientAddr: '127.0.0.1',
    },
    rest: 'LOG:  statement: create table accounts (id int primary key, email text);',
  },
  {
    name: 'user=%u,db=%d,app=%a,client=%h of a background process has empty values',
    prefix: 'user=%u,db=%d,app=%a,client=%h ',
    line: 'user=,db=,app=,client= LOG:  received SIGHUP, reloading configuration files',
    expect: { level: 'LOG' },
    rest: 'LOG:  received SIGHUP, reloading configuration files',
  },
  {
    name: 'no separator before the level (%t:%r:%u@%d:[%p]:) in CET',
    prefix: '%t:%r:%u@%d:[%p]:',
    line: '2026-11-27 01:45:08 CET:127.0.0.1(39050):app_owner@appdb:[7644]:LOG:  connection authorized: user=app_owner database=appdb application_name=psql-audit',
    expect: {
      level: 'LOG', loggedAt: at('2026-11-27T00:45:08Z'), clientAddr: '127.0.0.1', clientPort: 39050,
      userName: 'app_owner', databaseName: 'appdb', pid: 7644,
    },
    rest: 'LOG:  connection authorized: user=app_owner database=appdb application_name=psql-audit',
  },
  {
    name: '%r of a Unix-socket session is [local]',
    prefix: '%t:%r:%u@%d:[%p]:',
    line: '2026-11-27 01:45:08 CET:[local]:postgres@postgres:[7610]:LOG:  statement: create database appdb owner app_owner;',
    expect: { level: 'LOG', loggedAt: at('2026-11-27T00:45:08Z'), clientAddr: '[local]', userName: 'postgres', databaseName: 'postgres', pid: 7610 },
    rest: 'LOG:  statement: create database appdb owner app_owner;',
  },
  {
    name: '%t-%c with no separator at all before the level',
    prefix: '%t-%c',
    line: '2026-11-24 14:55:15 GMT-6b05a553.26bfFATAL:  password authentication failed for user "u"',
    expect: { level: 'FATAL', loggedAt: at('2026-11-24T14:55:15Z'), sessionId: '6b05a553.26bf' },
    rest: 'FATAL:  password authentication failed for user "u"',
  },
  {
    name: 'every session escape at once, with a -0530 zone',
    prefix: '%n|%m|%s|%p|%P|%l|%i|%e|%v|%x|%Q|%b|%a|%%|',
    line: '1795779899.360|2026-11-27 06:14:59.360 -0530|2026-11-27 06:14:58 -0530|6934|6900|3|SELECT|42703|3/2|724|-8212344|parallel worker|my app|%|ERROR:  boom',
    expect: {
      level: 'ERROR', loggedAt: at('2026-11-27T11:44:59.360Z'), sessionStartedAt: at('2026-11-27T11:44:58Z'), pid: 6934,
      leaderPid: 6900, lineNumber: 3, commandTag: 'SELECT', sqlstate: '42703', virtualXid: '3/2', xid: '724',
      queryId: '-8212344', backendType: 'parallel worker', applicationName: 'my app',
    },
    rest: 'ERROR:  boom',
  },
  {
    name: '%n is epoch seconds with milliseconds',
    prefix: '%n [%p] ',
    line: '1795779899.360 [6934] WARNING:  there is no transaction in progress',
    expect: { level: 'WARNING', loggedAt: at('2026-11-27T11:44:59.360Z'), pid: 6934 },
    rest: 'WARNING:  there is no transaction in progress',
  },
  {
    name: 'padded escapes (%-10u) carry the value without the padding',
    prefix: '%t [%-6p] %-10u ',
    line: '2026-11-24 14:55:15 UTC [42    ] bob        LOG:  hello',
    expect: { level: 'LOG', loggedAt: at('2026-11-24T14:55:15Z'), pid: 42, userName: 'bob' },
    rest: 'LOG:  hello',
  },
];

for (const c of MATCHES) {
  test(`prefix matches: ${c.name}`, () => {
    const m = compilePrefix(c.prefix).match(c.line);
    assert.ok(m, `no match for ${c.line}`);
    const { rest, ...fields } = m;
    assert.equal(rest, c.rest);
    assert.deepEqual(fields, c.expect);
  });
}

const NO_MATCHES: { name: string; prefix: string; line: string }[] = [
  { name: 'a line of another prefix', prefix: AZURE_LOG_LINE_PREFIX, line: '2026-11-27 00:44:37.402 UTC [5869] app_owner@appdb ERROR:  x' },
  { name: 'a continuation line', prefix: '%m [%p] ', line: '\t  login' },
  { name: 'an unknown level', prefix: AZURE_LOG_LINE_PREFIX, line: '2026-11-24 14:55:15 UTC-6b05a553.26bf-FEHLER:  Syntaxfehler' },
  { name: 'a %t line for a %m prefix (no milliseconds)', prefix: '%m [%p] ', line: '2026-11-24 14:55:15 UTC [1] LOG:  x' },
  { name: 'an empty line', prefix: '%t ', line: '' },
];
for (const c of NO_MATCHES) {
  test(`prefix does not match: ${c.name}`, () => {
    assert.equal(compilePrefix(c.prefix).match(c.line), null);
  });
}

test('a time with an ambiguous zone abbreviation matches but has no loggedAt', () => {
  const m = compilePrefix('%t-%c-').match('2026-11-24 14:55:15 IST-6b05a553.26bf-LOG:  x');
  assert.ok(m);
  assert.equal(m.loggedAt, undefined);
  assert.equal(m.sessionId, '6b05a553.26bf');
});

test('lines of the same second get equal but separate Date objects', () => {
  const p = compilePrefix(AZURE_LOG_LINE_PREFIX);
  const a = p.match('2026-11-24 14:55:15 UTC-1.2-LOG:  a')?.loggedAt;
  const b = p.match('2026-11-24 14:55:15 UTC-1.3-LOG:  b')?.loggedAt;
  assert.ok(a && b);
  assert.notEqual(a, b);
  assert.equal(a.getTime(), b.getTime());
});

test('carries names the fields a prefix can fill', () => {
  assert.deepEqual([...compilePrefix(AZURE_LOG_LINE_PREFIX).carries].sort(), ['loggedAt', 'sessionId']);
  assert.deepEqual([...compilePrefix('%m [%p] %q%u@%d %r').carries].sort(),
    ['clientAddr', 'clientPort', 'databaseName', 'loggedAt', 'pid', 'userName']);
});

test('regex special characters in the literal text are matched literally', () => {
  const m = compilePrefix('(%p)*+?.[x] ').match('(12)*+?.[x] LOG:  ok');
  assert.equal(m?.pid, 12);
  assert.equal(compilePrefix('(%p)*+?.[x] ').match('(12)*+?x[x] LOG:  ok'), null);
});

test('a 1 MB line that does not match is rejected quickly (bounded backtracking)', () => {
  const p = compilePrefix('user=%u,db=%d,app=%a,client=%h ');
  const line = 'user=' + 'x,'.repeat(500_000);
  const t0 = performance.now();
  assert.equal(p.match(line), null);
  assert.ok(performance.now() - t0 < 200, 'took too long');
});

test('a 1 MB line that matches keeps its whole text in rest', () => {
  const text = 'x'.repeat(1_000_000);
  const m = compilePrefix(AZURE_LOG_LINE_PREFIX).match(`2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  ${text}`);
  assert.equal(m?.rest.length, 'LOG:  '.length + text.length);
});

test('validatePrefix says what the Azure default costs', () => {
  assert.deepEqual(validatePrefix(AZURE_LOG_LINE_PREFIX), [
    'no %m/%n: times have whole seconds only (use %m for milliseconds)',
    'no %u/%d: users come from connection lines',
    'no %r/%h: client addresses come from connection lines',
  ]);
});

test('validatePrefix warns when sessions can only be tied by pid, or not at all', () => {
  assert.ok(validatePrefix('%m [%p] %q%u@%d ').includes('no %c: sessions can only be tied by pid, and pids are reused after disconnect'));
  assert.ok(validatePrefix('%m ').includes('no %c or %p: lines cannot be tied to a session at all'));
});

test('validatePrefix warns about a prefix without time and about unknown escapes', () => {
  const warnings = validatePrefix('%c %y ');
  assert.ok(warnings.includes('no %t/%m/%n: lines carry no time, so every stderr record becomes a dead letter'));
  assert.ok(warnings.includes("unknown escape '%y': PostgreSQL prints nothing for it"));
});

test('a complete prefix gets no warnings', () => {
  assert.deepEqual(validatePrefix('%m [%p] %c %q%u@%d %r %a '), []);
});

const LEVELS: { rest: string; expect: { level: string; text: string } | null }[] = [
  { rest: 'LOG:  connection received: host=[local]', expect: { level: 'LOG', text: 'connection received: host=[local]' } },
  { rest: 'ERROR:  permission denied to create role', expect: { level: 'ERROR', text: 'permission denied to create role' } },
  { rest: 'DETAIL:  Key (id)=(1) already exists.', expect: { level: 'DETAIL', text: 'Key (id)=(1) already exists.' } },
  { rest: 'STATEMENT:  select boom();', expect: { level: 'STATEMENT', text: 'select boom();' } },
  { rest: 'DEBUG3:  x', expect: { level: 'DEBUG3', text: 'x' } },
  { rest: 'HINT:   leading space kept', expect: { level: 'HINT', text: ' leading space kept' } },
  { rest: 'LOG:', expect: { level: 'LOG', text: '' } },
  { rest: 'DEBUG6:  x', expect: null },
  { rest: 'log:  x', expect: null },
  { rest: 'AUDIT: SESSION,1', expect: null },
];
for (const c of LEVELS) {
  test(`splitLevel(${JSON.stringify(c.rest)})`, () => {
    assert.deepEqual(splitLevel(c.rest), c.expect);
  });
}
