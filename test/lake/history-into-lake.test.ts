/**
 * Periods before auditduck ran fill the lake too: `ingest --lake` of an archived PT1H.json (the storage
 * account's diagnostic archive) and a Log Analytics backfill followed by the export, each row once; ingesting
 * the same archive again adds no segment.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { exportStoreToLake, openLakeQueryTarget, openLakeStorage, parseLakeLocation, verifyLake } from '../../src/lake/index.js';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runBackfill } from '../../src/pipeline/ingest-backfill.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { sessionRows, startFakeLogsService } from '../sources/loganalytics/fake-logs-service.js';
import { queryStore, silentLogger } from '../support/store-reader.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const COUNTS = `SELECT (SELECT count(*) FROM log_records) AS records, (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM sessions) AS sessions`;

async function lakeCounts(lake: string): Promise<unknown> {
  const target = await openLakeQueryTarget(lake);
  try {
    return (await target.run(COUNTS)).rows[0];
  } finally {
    await target.close();
  }
}

describe('history into the lake', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-history-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ingest of an archived PT1H.json with AUDITDUCK_LAKE fills the lake, once', async () => {
    const db = join(dir, 'archive.duckdb');
    const lake = join(dir, 'archive-lake');
    const ingest = () => exec(process.execPath, [...CLI, 'ingest', '--db', db, 'samples/storage/PT1H.json'], {
      env: { ...process.env, AUDITDUCK_LAKE: lake, AUDITDUCK_LOG_LEVEL: 'warn' },
    });
    await ingest();
    const [store] = await queryStore(db, COUNTS);
    assert.ok(Number(store!.records) > 0);
    assert.deepEqual(await lakeCounts(lake), store);
    await ingest();
    const result = await verifyLake(await openLakeStorage(parseLakeLocation(lake)));
    assert.deepEqual(result.problems, []);
    assert.equal(result.segments, 1, 'the same archive again added a segment');
    assert.deepEqual(await lakeCounts(lake), store);
  });

  it('a Log Analytics backfill goes to the lake with the export after it', async () => {
    const service = await startFakeLogsService(sessionRows());
    const credential: TokenCredential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const client = new LogsQueryClient(credential, { endpoint: service.endpoint, agent: service.agent });
    const db = join(dir, 'backfill.duckdb');
    const lake = join(dir, 'backfill-lake');
    const store = await AuditStore.open(db);
    try {
      const summary = await runBackfill({
        client, scope: { kind: 'workspace', id: 'ws-1' }, table: 'PGSQLServerLogs', since: new Date('2026-11-24T00:00:00Z'), until: new Date('2026-11-24T04:00:00Z'),
        store, pipeline: await IngestPipeline.create(store), prefix: compilePrefix(AZURE_LOG_LINE_PREFIX), minWindowMs: 60_000,
      });
      assert.equal(summary.rows, 48);
    } finally {
      await store.close();
      await service.close();
    }
    await exportStoreToLake(db, lake, silentLogger);
    const [counts] = await queryStore(db, COUNTS);
    assert.equal(Number(counts!.records), 48);
    assert.deepEqual(await lakeCounts(lake), counts);
  });
});
