import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('auditduck query while another process holds the store', () => {
  let dir: string;
  let db: string;
  let writer: ChildProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-api-'));
    db = join(dir, 'held.duckdb');
    process.env.AUDITDUCK_HISTORY = join(dir, 'history');
    writer = spawn(process.execPath, ['--import', 'tsx', 'test/web/holding-writer.ts', db], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      writer.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      writer.once('exit', (code) => reject(new Error(`the writer exited with ${code} before it was ready`)));
    });
  });

  after(async () => {
    if (writer.exitCode === null) {
      const exited = new Promise((resolve) => writer.once('exit', resolve));
      writer.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('the store really is held: opening it, even read-only, fails with a lock error', async () => {
    await assert.rejects(DuckDBInstance.create(db, { access_mode: 'READ_ONLY' }), /lock/i);
  });

  test('the discovery file is private to the owner', () => {
    assert.equal(statSync(`${db}.api.json`).mode & 0o777, 0o600);
  });

  test('a query gets rows from the running process, and sees its inserts as they commit', () => {
    const first = cli(['query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM audit_events']);
    assert.equal(first.code, 0, first.stderr);
    const n1 = (JSON.parse(first.stdout) as { n: number }[])[0]!.n;
    assert.ok(n1 >= 5);
    const second = cli(['query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM audit_events']);
    assert.ok((JSON.parse(second.stdout) as { n: number }[])[0]!.n > n1, 'the writer kept inserting; a later query sees more');
  });

  test('a saved query with a parameter runs through the API too', () => {
    const r = cli(['query', '--db', db, '--format', 'json', 'session-activity', '--param', 'session_id=s1']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { command: string; statement: string }[];
    assert.deepEqual(rows.map((x) => [x.command, x.statement]), [['CREATE ROLE', 'create role r1']]);
  });

  test('parquet output is written through the API with its column types', async () => {
    const out = join(dir, 'events.parquet');
    const r = cli(['query', '--db', db, '--format', 'parquet', '--output', out, "SELECT session_id, logged_at FROM audit_events WHERE session_id = $s", '--param', 's=s2']);
    assert.equal(r.code, 0, r.stderr);
    const mem = await (await DuckDBInstance.create(':memory:')).connect();
    const reader = await mem.runAndReadAll(`SELECT session_id, typeof(logged_at) AS t FROM '${out}'`);
    assert.deepEqual(reader.getRowObjects(), [{ session_id: 's2', t: 'TIMESTAMP WITH TIME ZONE' }]);
    mem.closeSync();
  });

  // Counted once around all the attempts (each CLI call starts a process): the writer only inserts, so any
  // fewer rows after them is a write that got through.
  let countBefore = 0;
  test('the rows before the write attempts are counted', () => {
    countBefore = countRows();
    assert.ok(countBefore > 0);
  });
  for (const [what, sql] of [
    ['DELETE', 'DELETE FROM audit_events'],
    ['COPY ... TO', `COPY audit_events TO '/tmp/auditduck-stolen.csv'`],
    ['ATTACH', `ATTACH '/tmp/auditduck-other.duckdb' AS other`],
    ['INSTALL', 'INSTALL httpfs'],
    ['EXPLAIN ANALYZE of a write', 'EXPLAIN ANALYZE DELETE FROM audit_events'],
    ['a write after a read', 'SELECT 1; DROP TABLE audit_events'],
    ['SET', "SET TimeZone = 'Europe/Berlin'"],
  ] as const) {
    test(`a write attempt (${what}) is refused`, () => {
      const r = cli(['query', '--db', db, sql]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /refused/);
    });
  }
  test('the refused attempts changed nothing: no row gone, no table dropped, no file written', () => {
    assert.ok(countRows() >= countBefore);
    assert.equal(existsSync('/tmp/auditduck-stolen.csv'), false);
  });

  function countRows(): number {
    const r = cli(['query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM audit_events']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { n: number }[])[0]!.n;
  }

  test('the shell works through the running process too, and refuses writes there', () => {
    const r = cli(['shell', '--db', db], `\\format csv\nSELECT count(*) > 0 AS some FROM audit_events;\nDROP TABLE audit_events;\n\\i session-activity session_id=s1\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /some\ntrue\n/);
    assert.match(r.stderr, /error: refused: statement 1 is DROP/);
    assert.match(r.stdout, /create role r1/);
  });

  test('when the writer stops, its discovery file is gone and the store opens directly again', async () => {
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    writer.kill('SIGTERM');
    await exited;
    assert.equal(existsSync(`${db}.api.json`), false);
    const r = cli(['query', '--db', db, '--format', 'csv', "SELECT count(*) > 5 AS many FROM audit_events"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'many\ntrue\n');
  });
});

describe('auditduck query against a store held by a process without the API', () => {
  test('says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditduck-noapi-'));
    const db = join(dir, 'held.duckdb');
    const holder = spawn(process.execPath, ['-e', `
      const { DuckDBInstance } = require('@duckdb/node-api');
      DuckDBInstance.create(process.argv[1]).then(async (i) => { await i.connect(); console.log('ready'); setInterval(() => {}, 1000); });
    `, db], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const r = cli(['query', '--db', db, 'SELECT 1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /held by another process and it publishes no query API/);
      // run always starts its query API: the message must not send the user to a setting that does not turn it off.
      assert.doesNotMatch(r.stderr, /AUDITDUCK_HTTP_PORT/);
      assert.match(r.stderr, /'auditduck run' always publishes one once it has started: if that is the process, retry in a moment/);
      assert.match(r.stderr, /auditduck serve, another ingest, a DuckDB shell\) must finish or be stopped first, or query a copy/);
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
