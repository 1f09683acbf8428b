/**
 * `auditduck ingest` runs its statements on one DuckDB thread (they are all small: parallel execution only adds
 * hand-offs between threads, measured as CPU in docs/benchmarks.md).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import type { InTransactionWriter } from '../../src/detect/written-batch.js';
import { silentLogger } from '../support/store-reader.js';

const SERVER_LOGS = fileURLToPath(new URL('../fixtures/activity-log/pg-prod-server-logs.jsonl', import.meta.url));

async function threads(connection: DuckDBConnection): Promise<number> {
  return Number((await connection.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
}

describe('ingest and DuckDB threads', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'auditduck-ingest-threads-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('runs every batch on one DuckDB thread', async () => {
    const seen: number[] = [];
    const observer: InTransactionWriter = { inTransaction: async (connection) => void seen.push(await threads(connection)) };
    await ingestFiles([SERVER_LOGS], { dbPath: join(dir, 'store.duckdb'), format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger, observers: [observer] });
    assert.ok(seen.length > 0, 'the input made a batch');
    assert.deepEqual([...new Set(seen)], [1]);
  });
});
