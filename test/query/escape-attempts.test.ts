/**
 * Every way out of the read-only query surface we know of, through every surface that runs user SQL:
 * `auditduck query` and `auditduck shell` on a store they open, the same two through the query API of a
 * running `auditduck run`, and a dashboard panel of `auditduck serve`. Each attempt must fail, and
 * afterwards no file or folder was written, no secret was read, no sequence advanced and no extension
 * download was attempted (DuckDB would create $HOME/.duckdb for it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { AuditStore } from '../../src/store/audit-store.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { demoIngested, runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Paths {
  /** A file no query may read (the API token file, under `run`). */
  secret: string;
  /** The folder every write attempt aims at; it must stay empty. */
  out: string;
}

/** Each must fail with an error matching `refusal`. */
const ESCAPES: readonly { name: string; sql: (p: Paths) => string }[] = [
  { name: 'read_text of the token file', sql: (p) => `SELECT * FROM read_text('${p.secret}')` },
  { name: 'read_csv of the token file', sql: (p) => `SELECT * FROM read_csv('${p.secret}', header = false, sep = '|')` },
  { name: 'read_blob of the token file', sql: (p) => `SELECT * FROM read_blob('${p.secret}')` },
  { name: 'read_json of the token file', sql: (p) => `SELECT * FROM read_json_auto('${p.secret}')` },
  { name: 'glob of the machine', sql: (p) => `SELECT * FROM glob('${p.out}/../*')` },
  { name: 'glob of /etc', sql: () => `SELECT * FROM glob('/etc/*')` },
  { name: 'COPY TO a file', sql: (p) => `COPY (SELECT 1) TO '${p.out}/copy.csv'` },
  { name: 'EXPLAIN /**/ ANALYZE COPY', sql: (p) => `EXPLAIN /**/ ANALYZE COPY (SELECT 1) TO '${p.out}/explain-comment.csv'` },
  { name: 'EXPLAIN (FORMAT json, ANALYZE) COPY', sql: (p) => `EXPLAIN (FORMAT json, ANALYZE) COPY (SELECT 1) TO '${p.out}/explain-options.csv'` },
  { name: 'EXPLAIN ("analyze") COPY', sql: (p) => `EXPLAIN ("analyze") COPY (SELECT 1) TO '${p.out}/explain-quoted.csv'` },
  { name: 'EXPLAIN ANALYSE DELETE', sql: () => `EXPLAIN ANALYSE DELETE FROM alerts` },
  { name: 'EXPLAIN ANALYZE COPY through query()', sql: (p) => `SELECT * FROM query('EXPLAIN ANALYZE COPY (SELECT 1) TO ''${p.out}/query-fn.csv''')` },
  { name: 'EXPORT DATABASE', sql: (p) => `EXPORT DATABASE '${p.out}/exported'` },
  { name: 'ATTACH a new file', sql: (p) => `ATTACH '${p.out}/other.duckdb' AS other` },
  { name: 'CREATE SECRET (would download httpfs)', sql: () => `CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')` },
  { name: 'INSTALL an extension', sql: () => `INSTALL httpfs` },
  { name: 'LOAD an extension', sql: () => `LOAD httpfs` },
  { name: 'nextval of a sequence', sql: () => `SELECT nextval('alert_id_seq')` },
  { name: 'DELETE', sql: () => `DELETE FROM alerts` },
  { name: 'a write after a read', sql: () => `SELECT 1; DROP TABLE alerts` },
  { name: 'SET enable_external_access', sql: () => `SET enable_external_access = true` },
  { name: 'SET profiling_output', sql: (p) => `SET profiling_output = '${p.out}/profile.json'` },
  { name: 'PRAGMA enable_profiling', sql: () => `PRAGMA enable_profiling` },
];

/**
 * How each refusal reads. A second CREATE SECRET in the same process meets the secret manager a first,
 * refused one left half set up: still an error, and still nothing written.
 */
const refusal =
  /refused|Permission Error|file system operations are disabled|read-only mode|configuration has been locked|Expected a single SELECT statement|Secret Storage with name 'memory' already registered/;

function cli(args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The sequence's state, read through the same surface. */
function sequenceState(db: string, env: NodeJS.ProcessEnv): string {
  const r = cli(['query', '--db', db, '--format', 'csv', `SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'alert_id_seq'`], env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The checks every surface shares: the folder stayed empty, $HOME got no .duckdb, the secret was never shown. */
function assertNothingEscaped(paths: Paths, home: string, outputs: string): void {
  assert.deepEqual(readdirSync(paths.out), [], 'no file or folder was written');
  assert.equal(existsSync(join(home, '.duckdb')), false, 'no extension download or stored secret was attempted');
  assert.ok(!outputs.includes(readFileSync(paths.secret, 'utf8').trim()), 'the secret never reached the output');
}

async function newStore(dir: string): Promise<string> {
  const db = join(dir, 'store.duckdb');
  const store = await AuditStore.open(db);
  await store.connection.run(`SELECT nextval('alert_id_seq')`);
  await store.close();
  return db;
}

function sandbox(dir: string): { paths: Paths; home: string; env: NodeJS.ProcessEnv } {
  const out = join(dir, 'out');
  const home = join(dir, 'home');
  mkdirSync(out);
  mkdirSync(home);
  const secret = join(dir, 'token.txt');
  writeFileSync(secret, 'TOKEN-5e3c1f0a9b7d\n');
  return { paths: { secret, out }, home, env: { ...process.env, HOME: home, AUDITDUCK_HISTORY: join(dir, 'history') } };
}

interface Surface {
  db: string;
  paths: Paths;
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Every attempt through `auditduck query`, then all of them through `auditduck shell`, on `s.db`. */
async function escapeThroughCli(t: TestContext, s: Surface): Promise<void> {
  const sequenceBefore = sequenceState(s.db, s.env);
  for (const escape of ESCAPES) {
    await t.test(`query refuses ${escape.name}`, () => {
      const r = cli(['query', '--db', s.db, escape.sql(s.paths)], s.env);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, refusal);
      assertNothingEscaped(s.paths, s.home, r.stdout + r.stderr);
    });
  }
  await escapeThroughShell(t, s);
  await t.test('no sequence advanced', () => assert.equal(sequenceState(s.db, s.env), sequenceBefore));
}

async function escapeThroughShell(t: TestContext, s: Surface): Promise<void> {
  await t.test('shell refuses every attempt, statement by statement', () => {
    const script = `${ESCAPES.map((e) => `${e.sql(s.paths)};`).join('\n')}\n`;
    const r = cli(['shell', '--db', s.db], s.env, script);
    assert.equal(r.code, 0, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    assert.equal(errors.length, ESCAPES.length, r.stderr);
    for (const line of errors) assert.match(line, refusal);
    assertNothingEscaped(s.paths, s.home, r.stdout + r.stderr);
  });
}

/** Every attempt posted to the query API named by the discovery file (as `auditduck query` does), then the shell. */
async function escapeThroughApi(t: TestContext, s: Surface): Promise<void> {
  const api = JSON.parse(readFileSync(`${s.db}.api.json`, 'utf8')) as { host: string; port: number; token: string };
  const sequenceBefore = sequenceState(s.db, s.env);
  for (const escape of ESCAPES) {
    await t.test(`the query API refuses ${escape.name}`, async () => {
      const response = await fetch(`http://${api.host}:${api.port}/api/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: escape.sql(s.paths) }),
      });
      const body = await response.text();
      assert.ok(response.status === 403 || response.status === 400, `${response.status} ${body}`);
      assert.match(body, refusal);
      assertNothingEscaped(s.paths, s.home, body);
    });
  }
  await escapeThroughShell(t, s);
  await t.test('no sequence advanced', () => assert.equal(sequenceState(s.db, s.env), sequenceBefore));
}

describe('escape attempts', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-escape-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('through query and shell on a store they open themselves', async (t) => {
    const local = join(dir, 'local');
    mkdirSync(local);
    await escapeThroughCli(t, { ...sandbox(local), db: await newStore(local) });
  });

  test('through the query API of a running auditduck run', async (t) => {
    const held = join(dir, 'run');
    mkdirSync(held);
    const { paths, home, env } = sandbox(held);
    const db = join(held, 'store.duckdb');
    const port = await freePort();
    const run = spawn(process.execPath, [...CLI, 'run'], {
      cwd: ROOT,
      env: runEnv({ base: env, db, port, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'json' } }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await waitFor('the query API of run', async () => (existsSync(`${db}.api.json`) ? true : undefined));
      // Its alerts advance the sequence the attempts must not: the demo stream is stored whole first.
      await demoIngested(port);
      // The file the token lives in is the secret here.
      await escapeThroughApi(t, { db, paths: { ...paths, secret: `${db}.api.json` }, home, env });
    } finally {
      const exited = new Promise((resolve) => run.once('exit', resolve));
      run.kill('SIGTERM');
      await exited;
    }
  });

  test('through a dashboard panel of auditduck serve', async (t) => {
    const served = join(dir, 'serve');
    mkdirSync(served);
    const { paths, home, env } = sandbox(served);
    const db = await newStore(served);
    const queries = join(served, 'queries');
    const dashboards = join(served, 'dashboards');
    mkdirSync(queries);
    mkdirSync(dashboards);
    const panels = ESCAPES.map((e, i) => {
      writeFileSync(join(queries, `escape-${i}.sql`), `-- ${e.name}\n${e.sql(paths)}\n`);
      return { id: `p${i}`, title: e.name, query: `escape-${i}`, chart: 'table' };
    });
    writeFileSync(join(dashboards, 'escapes.json'), JSON.stringify({ title: 'Escapes', panels }));
    const sequenceBefore = sequenceState(db, env);
    const serve: ChildProcess = spawn(
      process.execPath,
      [...CLI, 'serve', '--db', db, '--port', '0', '--queries', queries, '--dashboards', dashboards],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let exited = false;
    const exit = new Promise((resolve) => serve.once('exit', () => resolve((exited = true))));
    try {
      let out = '';
      serve.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      const url = await waitFor('serve', async () => /(http:\/\/\S+\/)/.exec(out)?.[1]);
      let outputs = '';
      for (const [i, escape] of ESCAPES.entries()) {
        await t.test(`the panel refuses ${escape.name}`, async () => {
          const response = await fetch(`${url}api/dashboards/escapes/panels/p${i}`);
          const body = await response.text();
          outputs += body;
          assert.equal(response.status, 422, body);
          assert.match(body, refusal);
          assertNothingEscaped(paths, home, body);
        });
      }
      assert.ok(!outputs.includes('TOKEN-'));
    } finally {
      if (!exited) serve.kill('SIGTERM');
      await exit;
    }
    await t.test('no sequence advanced', () => assert.equal(sequenceState(db, env), sequenceBefore));
  });
});
