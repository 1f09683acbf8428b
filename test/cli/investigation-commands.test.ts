import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { completeLine, type Vocabulary } from '../../src/cli/commands/shell.js';
import { parseSavedQuery } from '../../src/query/saved-queries.js';
import { buildInvestigationFixture } from '../query/investigation-fixture.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT, encoding: 'utf8', input: opts.input ?? '', timeout: 60_000, env: { ...process.env, ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function readFile(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  await c.run(`SET TimeZone = 'UTC'`);
  const rows = (await c.runAndReadAll(sql.replace('$file', `'${path}'`))).getRowObjectsJson() as Record<string, unknown>[];
  c.closeSync();
  instance.closeSync();
  return rows;
}

describe('investigation commands on the fixture store', () => {
  let dir: string;
  let db: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-cli-'));
    db = join(dir, 'fixture.duckdb');
    await buildInvestigationFixture(db);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('query runs a saved query by name with --param, as JSON', () => {
    const r = cli(['query', '--db', db, '--format', 'json', 'role-history', '--param', 'role=backdoor', '--param', 'server=pg-prod']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { action: string }[]).map((x) => x.action), ['create-role', 'set-attribute', 'set-password', 'set-attribute']);
  });

  test('query runs a .sql file, binding --param as $name', () => {
    const file = join(dir, 'q.sql');
    writeFileSync(file, 'SELECT rolname FROM roles WHERE server = $s ORDER BY rolname;\n');
    const r = cli(['query', '--db', db, '--format', 'csv', '--file', file, '--param', 's=pg-dev']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'rolname\ndev_admin\n');
  });

  test('query --list shows the saved queries with their parameters', () => {
    const r = cli(['query', '--list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^actor-changes\n {4}Everything one actor changed/m);
    assert.match(r.stdout, /--param actor=<required>/);
  });

  test('query refuses a write on a store it opened itself, too', () => {
    const r = cli(['query', '--db', db, `ATTACH '${join(dir, 'x.duckdb')}' AS x`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused: statement 1 is ATTACH/);
  });

  test('an unknown saved query name says how to list them', () => {
    const r = cli(['query', '--db', db, 'no-such-query']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /auditduck query --list/);
  });

  test('query --format parquet writes a typed Parquet file', async () => {
    const out = join(dir, 'admins.parquet');
    const r = cli(['query', '--db', db, '--format', 'parquet', '--output', out, 'admin-rights-now']);
    assert.equal(r.code, 0, r.stderr);
    const rows = await readFile(out, `SELECT role_name, typeof(since) AS t FROM $file ORDER BY server, role_name`);
    assert.deepEqual(rows.map((x) => x.role_name), ['dev_admin', 'alice', 'backdoor', 'mallory', 'postgres']);
    assert.equal(rows[0]!.t, 'TIMESTAMP WITH TIME ZONE');
  });

  test('export writes a time range of a table to Parquet and to CSV', async () => {
    const parquet = join(dir, 'changes.parquet');
    const r = cli(['export', '--db', db, '--table', 'privilege_changes', '--since', '2026-11-23T00:00:00Z', '--until', '2026-11-24T00:00:00Z', '--output', parquet]);
    assert.equal(r.code, 0, r.stderr);
    const rows = await readFile(parquet, 'SELECT action, privileges FROM $file');
    assert.deepEqual(rows.map((x) => x.action), ['grant-role', 'grant', 'revoke', 'default-grant', 'set-parameter', 'set-attribute']);
    assert.deepEqual(rows[1]!.privileges, ['SELECT']);

    const csv = join(dir, 'failures.csv');
    const c = cli(['export', '--db', db, '--table', 'auth_failures', '--since', '2026-11-24T07:00:02Z', '--format', 'csv', '--output', csv]);
    assert.equal(c.code, 0, c.stderr);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^server,logged_at,session_id/);
  });

  test('export refuses a table it does not know, naming the ones it does', () => {
    const r = cli(['export', '--db', db, '--table', 'schema_version; DROP TABLE roles', '--output', join(dir, 'x.parquet')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot export .* the tables are: log_records, audit_events/);
  });

  test('shell reads SQL and psql\'s backslash commands (\\d TABLE with types, \\x, \\i NAME, \\q) from piped stdin, and keeps history', () => {
    const history = join(dir, 'history');
    const input = [
      '\\d',
      '\\d roles',
      '\\x',
      'SELECT 42 AS answer;',
      '\\x',
      '\\format csv',
      'SELECT rolname',
      "FROM roles WHERE server = 'pg-dev';",
      '\\i login-roles-never-used server=pg-prod',
      'DELETE FROM roles;',
      'SELECT count(*) AS n FROM roles;',
      '\\q',
      'SELECT 1;',
    ].join('\n');
    const r = cli(['shell', '--db', db], { input, env: { AUDITDUCK_HISTORY: history } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^audit_events$/m);
    assert.match(r.stdout, /^rolcanlogin +│ BOOLEAN$/m, '\\d TABLE shows the types');
    assert.match(r.stdout, /Expanded display is on\.\n-\[ RECORD 1 \]-*\nanswer │ 42\n/, '\\x: one field per line');
    assert.match(r.stdout, /rolname\ndev_admin\n/);
    assert.match(r.stdout, /server,role_name,created_at,created_by,has_password,rolsuper\npg-prod,backdoor,/);
    assert.match(r.stderr, /error: refused: statement 1 is DELETE/);
    assert.match(r.stdout, /n\n7\n/, 'nothing was deleted and the shell went on after the error');
    assert.doesNotMatch(r.stdout, /^1$/m, 'nothing runs after \\q');
    assert.match(readFileSync(history, 'utf8'), /^\\i login-roles-never-used server=pg-prod$/m);
  });
});

describe('shell completion', () => {
  const vocab: Vocabulary = {
    tables: new Map([['roles', ['rolname', 'rolsuper']], ['role_memberships', ['role_name', 'member']], ['sessions', ['session_id']]]),
    savedQueries: [parseSavedQuery('role-history', "-- One role's history.\n-- @param role text\nSELECT $role"), parseSavedQuery('rolled-back-changes', '-- Rolled back.\nSELECT 1')],
  };

  test('completes table and column names in SQL', () => {
    assert.deepEqual(completeLine('SELECT * FROM rol', vocab), [['role_memberships', 'role_name', 'roles', 'rolname', 'rolsuper'], 'rol']);
    assert.deepEqual(completeLine('SELECT roles.rols', vocab), [['roles.rolsuper'], 'roles.rols']);
  });

  test('completes saved query names after \\i, their parameters after the name, and tables after \\d', () => {
    assert.deepEqual(completeLine('\\i rol', vocab), [['role-history', 'rolled-back-changes'], 'rol']);
    assert.deepEqual(completeLine('\\i role-history r', vocab), [['role='], 'r']);
    assert.deepEqual(completeLine('\\d se', vocab), [['sessions'], 'se']);
    assert.deepEqual(completeLine('\\fo', vocab), [['\\format'], '\\fo']);
  });
});
