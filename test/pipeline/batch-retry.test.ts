import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { commitFailureCause, commitWithRetry, retryDelayMs, RetryAborted } from '../../src/pipeline/batch-retry.js';

/** The error DuckDB really throws for a statement. */
async function duckdbError(sql: string, path = ':memory:'): Promise<Error> {
  try {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(sql);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`no error from ${sql}`);
}

describe('why a batch could not be stored', () => {
  it('blames the store for I/O errors (a file it cannot write), so the batch is kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-retry-'));
    try {
      const error = await duckdbError(`COPY (SELECT 1) TO '${join(dir, 'missing', 'dir', 'x.csv')}'`);
      assert.equal(commitFailureCause(error), 'store', error.message);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(commitFailureCause(Object.assign(new Error('write failed'), { code: 'ENOSPC' })), 'store');
    assert.equal(commitFailureCause(new Error('IO Error: Could not write all bytes to file "/data/x.wal": No space left on device')), 'store');
  });

  it('retries a write-write conflict with another connection without blaming the data or the store', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const a = await instance.connect();
    const b = await instance.connect();
    await a.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0)');
    await a.run('BEGIN TRANSACTION; UPDATE t SET v = 1 WHERE id = 1');
    const error = await b.run('UPDATE t SET v = 2 WHERE id = 1').then(() => new Error('no conflict'), (e: Error) => e);
    assert.equal(commitFailureCause(error), 'conflict', error.message);
    await a.run('ROLLBACK');
  });

  it('blames the data for a conversion, a constraint or a thrown bug', async () => {
    for (const sql of [`SELECT 'x'::INTEGER`, `CREATE TABLE t (a INTEGER NOT NULL); INSERT INTO t VALUES (NULL)`]) {
      const error = await duckdbError(sql);
      assert.equal(commitFailureCause(error), 'data', error.message);
    }
    assert.equal(commitFailureCause(new TypeError("Cannot read properties of undefined (reading 'role')")), 'data');
    assert.equal(commitFailureCause(new RangeError('Maximum call stack size exceeded')), 'data');
  });
});

describe('retrying a batch', () => {
  const policy = { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 20 };
  const never = new AbortController().signal;

  it('backs off exponentially up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, { ...policy, initialBackoffMs: 100, maxBackoffMs: 500 })), [100, 200, 400, 500, 500]);
  });

  it('quarantines a batch after maxAttempts failures of its data, and only then', async () => {
    let commits = 0;
    const failures: string[] = [];
    const outcome = await commitWithRetry({
      commit: async () => {
        commits++;
        throw new TypeError('bad row');
      },
      quarantine: async (error, attempts) => `quarantined after ${attempts}: ${(error as Error).message}`,
      policy,
      signal: never,
      onFailure: (f) => failures.push(`${f.attempt}:${f.cause}`),
    });
    assert.equal(outcome, 'quarantined after 3: bad row');
    assert.equal(commits, 3);
    assert.deepEqual(failures, ['1:data', '2:data']);
  });

  it('never quarantines while the store is at fault, and commits once it recovers', async () => {
    let commits = 0;
    const outcome = await commitWithRetry({
      commit: async () => {
        if (++commits < 8) throw new Error('IO Error: No space left on device');
        return 'committed';
      },
      quarantine: async () => 'quarantined',
      policy,
      signal: never,
    });
    assert.equal(outcome, 'committed');
    assert.equal(commits, 8);
  });

  it('stops waiting when told to stop, leaving the batch uncommitted', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const retry = commitWithRetry({
      commit: async () => {
        throw new Error('IO Error: disk full');
      },
      quarantine: async () => 'quarantined',
      policy: { maxAttempts: 3, initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 50);
    await assert.rejects(retry, RetryAborted);
    assert.ok(Date.now() - started < 5_000);
  });
});
