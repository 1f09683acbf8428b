import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { decodeAzureRecord } from '../../src/decode/azure/azure-record.js';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runBackfill, type BackfillOptions } from '../../src/pipeline/ingest-backfill.js';
import { buildWindowQuery, rowsToAzureRecords } from '../../src/sources/loganalytics/log-analytics-tables.js';
import { gridWindows } from '../../src/sources/loganalytics/time-windows.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { RESOURCE_ID, sessionRows, startFakeLogsService, type FakeLogsService } from '../sources/loganalytics/fake-logs-service.js';

const prefix = compilePrefix(AZURE_LOG_LINE_PREFIX);
const SINCE = new Date('2026-11-24T00:00:00Z');
const UNTIL = new Date('2026-11-24T04:00:00Z');
const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const DATA = sessionRows();

async function count(store: AuditStore, sql: string): Promise<number> {
  return Number((await store.connection.runAndReadAll(sql)).getRows()[0]![0]);
}

describe('backfill from a local service that answers like the Logs Query API', () => {
  let dir: string;
  let service: FakeLogsService;
  let store: AuditStore;
  let client: LogsQueryClient;

  const backfill = async (extra: Partial<BackfillOptions> = {}) =>
    runBackfill({
      client, scope: { kind: 'workspace', id: 'ws-1' }, table: 'PGSQLServerLogs', since: SINCE, until: UNTIL,
      store, pipeline: await IngestPipeline.create(store), prefix, minWindowMs: 60_000, ...extra,
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-backfill-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async (t) => {
    service = await startFakeLogsService(DATA);
    client = new LogsQueryClient(credential, { endpoint: service.endpoint, agent: service.agent, retryOptions: { maxRetries: 3 } });
    store = await AuditStore.open(join(dir, `${t.name.replace(/\W+/g, '-').slice(0, 40)}.duckdb`));
  });
  afterEach(async () => {
    await store.close();
    await service.close();
  });

  test('every row is stored once, sessions attribute audit events, and the token is sent over TLS', async () => {
    const summary = await backfill();
    assert.equal(summary.rows, 48);
    assert.equal(summary.windowsFetched, 4);
    assert.deepEqual(summary.partialFailures, []);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
    assert.equal(await count(store, `SELECT count(*) FROM audit_events WHERE user_name = 'alice' AND server = 'pg-prod'`), 24);
    assert.ok(service.tokens.every((t) => t === 'Bearer test-token'));
  });

  test('throttling with Retry-After is waited out and retried', async () => {
    service.behaviour.throttleNext = 2;
    const summary = await backfill();
    assert.equal(service.throttled, 2);
    assert.equal(summary.rows, 48);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
  });

  test('a window that comes back partial (result too large) is halved until each half is complete', async () => {
    service.behaviour.partialRowLimit = 8; // an hour holds 12 rows, half an hour 6
    const summary = await backfill();
    assert.equal(summary.windowsSplit, 4);
    assert.deepEqual(summary.partialFailures, []);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
    assert.deepEqual(service.requests.slice(0, 3), ['2026-11-24T00:00:00.000Z', '2026-11-24T00:00:00.000Z', '2026-11-24T00:30:00.000Z']);
  });

  test('a window still partial at the smallest size keeps its rows, is reported, and is fetched again next run without duplicates', async () => {
    service.behaviour.alwaysPartial = { from: new Date('2026-11-24T03:00:00Z'), to: UNTIL };
    const first = await backfill({ minWindowMs: 30 * 60_000 });
    assert.deepEqual(first.partialFailures.map((p) => [p.start, p.code]), [
      ['2026-11-24T03:00:00.000Z', 'PartialError'],
      ['2026-11-24T03:30:00.000Z', 'PartialError'],
    ]);
    assert.match(first.partialFailures[0]!.message, /E_QUERY_RESULT_SET_TOO_LARGE/);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 36 + 6);

    service.behaviour.alwaysPartial = undefined;
    service.requests.length = 0;
    const second = await backfill({ minWindowMs: 30 * 60_000 });
    assert.deepEqual(service.requests, ['2026-11-24T03:00:00.000Z'], 'only the incomplete hour is asked for again');
    assert.equal(second.duplicates, 6);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
  });

  test('a restart after a failure in the middle resumes after the last committed window and stores nothing twice', async () => {
    service.behaviour.failWindowStart = new Date('2026-11-24T02:00:00Z');
    await assert.rejects(backfill(), /02:00:00.000Z.*failed \(HTTP 400\).*run the same backfill again to resume/s);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 24);

    service.behaviour.failWindowStart = undefined;
    service.requests.length = 0;
    const second = await backfill();
    assert.deepEqual(service.requests, ['2026-11-24T02:00:00.000Z', '2026-11-24T03:00:00.000Z']);
    assert.equal(second.windowsSkipped, 2);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
    assert.equal(await count(store, 'SELECT count(DISTINCT (server, logged_at, pid, message)) FROM log_records'), 48);

    service.requests.length = 0;
    const third = await backfill();
    assert.deepEqual(service.requests, [], 'a finished range is not fetched again');
    assert.equal(third.windowsSkipped, 4);
  });

  test('a window split before a restart resumes inside the hour, after its committed half', async () => {
    service.behaviour.partialRowLimit = 8;
    service.behaviour.failWindowStart = new Date('2026-11-24T01:30:00Z');
    await assert.rejects(backfill(), /01:30:00.000Z.*failed \(HTTP 400\).*run the same backfill again to resume/s);
    service.behaviour.failWindowStart = undefined;
    service.requests.length = 0;
    await backfill();
    assert.equal(service.requests[0], '2026-11-24T01:30:00.000Z');
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
  });

  test('records that already came through Event Hubs are not stored twice', async () => {
    const pipeline = await IngestPipeline.create(store);
    const early = DATA.slice(0, 10).map((r, i) =>
      decodeAzureRecord(
        {
          category: 'PostgreSQLLogs', time: r.time.toISOString(), resourceId: RESOURCE_ID, LogicalServerName: r.server,
          properties: { timestamp: `${r.time.toISOString().replace('T', ' ').replace('Z', '')} UTC`, message: r.message, errorLevel: r.level, sqlerrcode: r.sqlstate, processId: r.pid },
        },
        { source: 'eventhubs:hub/0', position: String(i), prefix },
      ),
    );
    await pipeline.processBatch(early, { sourceKey: 'eventhubs:hub/0', source: 'eventhubs:hub/0', position: '9' });
    const summary = await backfill();
    assert.equal(summary.duplicates, 10);
    assert.equal(await count(store, 'SELECT count(*) FROM log_records'), 48);
    assert.equal(await count(store, 'SELECT count(*) FROM audit_events'), 24);
  });
});

describe('Log Analytics tables', () => {
  test('PGSQLServerLogs KQL bounds the window half-open, filters the server case-insensitively and projects the shared names', () => {
    const kql = buildWindowQuery('PGSQLServerLogs', SINCE, UNTIL, 'PG-Prod');
    assert.equal(
      kql,
      [
        'PGSQLServerLogs',
        '| where TimeGenerated >= datetime(2026-11-24T00:00:00.000Z) and TimeGenerated < datetime(2026-11-24T04:00:00.000Z)',
        "| where LogicalServerName =~ 'pg-prod'",
        "| project TimeGenerated, ResourceId = _ResourceId, LogicalServerName, Message, ErrorLevel, SqlErrorCode, ProcessId, Detail = column_ifexists('Detail', '')",
        '| order by TimeGenerated asc',
      ].join('\n'),
    );
  });

  test('AzureDiagnostics KQL keeps only PostgreSQLLogs and renames the _s/_d columns', () => {
    const kql = buildWindowQuery('AzureDiagnostics', SINCE, UNTIL);
    assert.match(kql, /^AzureDiagnostics\n\| where Category == 'PostgreSQLLogs'\n/);
    assert.match(kql, /ErrorLevel = errorLevel_s, SqlErrorCode = sqlerrcode_s, ProcessId = processId_d/);
  });

  test('a server name that is not an Azure server name never reaches the KQL', () => {
    assert.throws(() => buildWindowQuery('PGSQLServerLogs', SINCE, UNTIL, "x' or 1==1 //"), /not an Azure PostgreSQL server name/);
  });

  test('an AzureDiagnostics row (processId as a real) decodes like the Event Hubs record', () => {
    const [record] = rowsToAzureRecords({
      columnDescriptors: ['TimeGenerated', 'ResourceId', 'LogicalServerName', 'Message', 'ErrorLevel', 'SqlErrorCode', 'ProcessId', 'Detail'].map((name) => ({ name })),
      rows: [[new Date('2026-11-24T14:55:15.123Z'), RESOURCE_ID, '', '2026-11-24 14:55:15 UTC-6b05a553.26bf-FATAL:  password authentication failed for user "x"', 'FATAL', '28P01', 9919.0, 'Role "x" does not exist.']],
    });
    const decoded = decodeAzureRecord(record, { source: 'la', position: '0', prefix });
    assert.equal(decoded.kind, 'record');
    if (decoded.kind !== 'record') return;
    assert.equal(decoded.record.server, 'pg-prod');
    assert.equal(decoded.record.loggedAt.toISOString(), '2026-11-24T14:55:15.123Z');
    assert.equal(decoded.record.pid, 9919);
    assert.equal(decoded.record.sqlstate, '28P01');
    assert.equal(decoded.record.sessionId, '6b05a553.26bf');
    assert.equal(decoded.record.detail, 'Role "x" does not exist.');
  });

  test('windows sit on a fixed grid, so a later --since asks for the same windows after the first', () => {
    const w = gridWindows(new Date('2026-11-24T00:20:00Z'), new Date('2026-11-24T02:10:00Z'), 3_600_000);
    assert.deepEqual(w.map((x) => [x.start.toISOString().slice(11, 16), x.end.toISOString().slice(11, 16)]), [['00:20', '01:00'], ['01:00', '02:00'], ['02:00', '02:10']]);
  });
});
