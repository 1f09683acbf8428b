/**
 * Parallel ingest (`--workers`): the worker threads gather ranges of each plain file into chunk files that the
 * store's writer folds in, and the store ends with the same rows and alerts as the main thread alone gives:
 * row counts and a content hash per table over samples/ and generated input, with the main thread alone, 1 and 2
 * worker threads, and ranges small enough that sessions and transactions cross them and the workers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { writeSyntheticBodies } from '../../../bench/generate-bodies.js';
import { azureRecord } from '../../support/synthetic-events.js';
import { createDetector } from '../../../src/detect/index.js';
import { ingestFiles } from '../../../src/pipeline/ingest-files.js';
import { queryStore, silentLogger } from '../../support/store-reader.js';
import { killAfterLogLines } from '../../support/kill-after-log-lines.js';

/** Every table a batch writes, and what of a row differs by when it was written, not by what was read. */
const TABLES: Record<string, string[]> = {
  log_lines: [],
  audit_events: [],
  auth_failures: [],
  dead_letters: ['ingested_at'],
  // change_seq: the order in which batches merged the session, which the workers' commits interleave.
  sessions: ['change_seq'],
  // seq: the order of observation inside one analyzer, and each worker has its own.
  privilege_changes: ['seq'],
  control_plane_events: [],
  source_positions: ['updated_at'],
  roles: [],
  role_memberships: [],
  alerts: ['alert_id', 'created_at', 'updated_at'],
};

/**
 * What depends on where batches are cut, whoever cuts them (`--batch-records` changes it on the main thread too):
 * the position a privilege change was committed with, and the alerts of rules that look at one batch at a time.
 */
const BY_BATCH = { privilege_changes: ['seq', 'position'], alerts: null };

async function tableHashes(db: string, differing: Record<string, string[] | null> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, always] of Object.entries(TABLES)) {
    const exclude = table in differing ? differing[table] : always;
    if (exclude === null || exclude === undefined) continue;
    const rows = exclude.length === 0 ? `SELECT * FROM ${table}` : `SELECT * EXCLUDE (${exclude.join(', ')}) FROM ${table}`;
    const [row] = await queryStore(db, `SELECT count(*) AS n, md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY t::VARCHAR), '')) AS h FROM (${rows}) t`);
    out[table] = `${String(row!.n)} rows ${String(row!.h)}`;
  }
  return out;
}

async function ingest(inputs: string[], db: string, workers: number, rangeBytes?: number) {
  return ingestFiles(inputs, {
    dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger,
    observers: [createDetector({})], workerDetection: {}, workers, ...(rangeBytes ? { rangeBytes } : {}),
  });
}

describe('parallel ingest with worker threads', () => {
  let dir: string;
  let generated: string;
  const samples = ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl', 'samples/storage/PT1H.json', 'samples/postgres/postgresql.json', 'samples/postgres/postgresql.log'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-workers-'));
    generated = join(dir, 'hub.jsonl');
    await writeSyntheticBodies(generated, 20_000);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the same rows and alerts with the main thread alone and with 2 workers, batch for batch', async () => {
    // Each input under 16 MiB: one batch on the main thread, one range for the workers; the inputs cross workers.
    const inputs = [...samples, generated];
    const reference = await ingest(inputs, join(dir, 'main-thread.duckdb'), 0);
    assert.ok(reference.records > 20_000 && reference.auditEvents > 0 && reference.privilegeChanges > 0);
    const [alerts] = await queryStore(join(dir, 'main-thread.duckdb'), 'SELECT count(*) AS n FROM alerts');
    assert.ok(Number(alerts!.n) > 10, 'the input raises alerts');
    const summary = await ingest(inputs, join(dir, 'workers-2.duckdb'), 2);
    assert.equal(summary.records, reference.records);
    assert.deepEqual(await tableHashes(join(dir, 'workers-2.duckdb')), await tableHashes(join(dir, 'main-thread.duckdb')));
  });

  it('stores the same rows and alerts with 1 and 2 workers when sessions, transactions and role changes cross ranges', async () => {
    const inputs = [...samples, generated];
    // 512 KiB ranges: ~20 of the generated file, gathered by one worker, or alternately by two.
    await ingest(inputs, join(dir, 'one-small.duckdb'), 1, 512 * 1024);
    await ingest(inputs, join(dir, 'two-small.duckdb'), 2, 512 * 1024);
    assert.deepEqual(await tableHashes(join(dir, 'two-small.duckdb')), await tableHashes(join(dir, 'one-small.duckdb')));
    // And the rows as the main thread alone stores them, but for what depends on where batches are cut.
    assert.deepEqual(await tableHashes(join(dir, 'two-small.duckdb'), BY_BATCH), await tableHashes(join(dir, 'main-thread.duckdb'), BY_BATCH));
  });

  it('gives detection the attribution of every range folded before, whichever worker read the session lines', async () => {
    // One line a range (1-byte ranges end at each line's end). Two workers are given the first three ranges at once,
    // in turn: the connection line to the first, the GRANT to the second, which never saw that line.
    const at = Date.parse('2026-11-20T09:00:00Z');
    const lines = [
      'connection authorized: user=dba_alice database=appdb application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)',
      'AUDIT: SESSION,1,1,ROLE,GRANT ROLE,,,GRANT pg_read_all_data TO report_1;,<not logged>',
      'disconnection: session time: 0:00:01.000 user=dba_alice database=appdb host=10.0.0.7 port=50123',
    ];
    const file = join(dir, 'one-session.ndjson');
    await writeFile(file, lines.map((text, i) => JSON.stringify(azureRecord('pg-ranges', '6aff8da6.28ed', 10477, 'LOG', text, at + i * 10))).join('\n') + '\n');
    const evidence = async (workers: number) => {
      const db = join(dir, `one-session-${workers}.duckdb`);
      await ingest([file], db, workers, 1);
      const alerts = await queryStore(db, `SELECT actor, evidence FROM alerts WHERE rule_id = 'admin-granted'`);
      assert.equal(alerts.length, 1, `one admin-granted alert with ${workers} workers`);
      return alerts[0]!;
    };
    const one = await evidence(1);
    assert.equal(one.actor, 'dba_alice');
    assert.match(String(one.evidence), /"database":"appdb","clientAddr":null,"application":"psql"/);
    assert.deepEqual(await evidence(2), one);
  });

  it('rolls back a change whose transaction began in a range another worker read', async () => {
    // One line a range again: BEGIN and ROLLBACK go to the first worker, the GRANT between them to the second.
    const at = Date.parse('2026-11-20T10:00:00Z');
    const lines = [
      'AUDIT: SESSION,1,1,MISC,BEGIN,,,BEGIN;,<not logged>',
      'AUDIT: SESSION,2,1,ROLE,GRANT ROLE,,,GRANT pg_read_all_data TO report_2;,<not logged>',
      'AUDIT: SESSION,3,1,MISC,ROLLBACK,,,ROLLBACK;,<not logged>',
      'connection authorized: user=dba_alice database=appdb application_name=psql',
    ];
    const file = join(dir, 'rolled-back.ndjson');
    await writeFile(file, lines.map((text, i) => JSON.stringify(azureRecord('pg-ranges', '6aff8db4.2900', 10496, 'LOG', text, at + i * 10))).join('\n') + '\n');
    for (const workers of [1, 2]) {
      const db = join(dir, `rolled-back-${workers}.duckdb`);
      await ingest([file], db, workers, 1);
      assert.deepEqual(await queryStore(db, 'SELECT action, actor, effective FROM privilege_changes'), [{ action: 'grant-role', actor: 'dba_alice', effective: false }], `${workers} workers`);
      // Raised by the GRANT's range, retracted by the ROLLBACK's.
      assert.deepEqual(await queryStore(db, `SELECT status FROM alerts WHERE rule_id = 'admin-granted'`), [{ status: 'retracted' }], `${workers} workers`);
    }
  });

  it('reads nothing twice when the same files are ingested again with workers', async () => {
    const db = join(dir, 'again.duckdb');
    await ingest([generated], db, 2, 512 * 1024);
    const before = await tableHashes(db);
    const again = await ingest([generated], db, 2, 512 * 1024);
    assert.equal(again.records, 0);
    assert.deepEqual(await tableHashes(db), before);
  });

  it('ends with the rows of one clean run after a SIGKILL between ranges, and leaves no chunk file folded twice', async () => {
    const clean = join(dir, 'clean.duckdb');
    await ingestFiles([generated], { dbPath: clean, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    // Against the main thread alone: what depends on where batches are cut aside (no detection here).
    const expected = await tableHashes(clean, BY_BATCH);
    const db = join(dir, 'killed.duckdb');
    const chunks = join(dir, 'chunks');
    await mkdir(chunks);
    const options = { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', workers: 2, rangeBytes: 512 * 1024 };
    const cli = ['--import', 'tsx', 'test/support/ingest-child.ts', JSON.stringify(options), generated];
    // The chunk files go to the temporary directory: this one, to see what the kill left there.
    const env = { ...process.env, TMPDIR: chunks };
    const committed = await killAfterLogLines(cli, env, '"range committed"', 5);
    assert.ok(committed >= 5);
    // Chunks the workers had written and the store had not folded yet are left behind by the kill.
    const left = (await readdir(chunks, { recursive: true })).filter((f) => String(f).endsWith('.csv'));
    const partial = await queryStore(db, 'SELECT count(*) AS n FROM log_records');
    assert.ok(Number(partial[0]!.n) > 0);
    const restart = spawn(process.execPath, cli, { env, stdio: 'ignore' });
    assert.equal(await new Promise<number | null>((resolve) => restart.on('exit', resolve)), 0);
    assert.deepEqual(await tableHashes(db, BY_BATCH), expected, `after the kill (${left.length} chunk files left unfolded)`);
  });
});
