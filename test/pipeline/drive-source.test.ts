/**
 * The one driver: it commits each source batch's rows with its position, then tells the after-commit hooks
 * (an exporter sees the rows committed, with the committed position) and the batch itself; a batch that
 * does not commit is given back to its source and no hook hears of it; gathered batches commit by size.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import type { InTransactionWriter } from '../../src/detect/written-batch.js';
import { driveSource, type CommittedBatch } from '../../src/pipeline/drive-source.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { hubEventDecoder } from '../../src/pipeline/source-decoders.js';
import type { HubEvent, SourceBatch } from '../../src/sources/source-batch.js';
import { AuditStore } from '../../src/store/audit-store.js';

const prefix = compilePrefix(AZURE_LOG_LINE_PREFIX);

/** One Event Hubs body with one PostgreSQL log record of `message`. */
function event(sequenceNumber: number, message: string): HubEvent {
  const at = new Date(Date.UTC(2026, 10, 24, 10, 0, sequenceNumber));
  const stamp = at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const record = {
    properties: { timestamp: stamp, processId: 100 + sequenceNumber, errorLevel: 'LOG', sqlerrcode: '00000', backend_type: 'postmaster', message: `${stamp}-6b08e8ee.${sequenceNumber}-LOG:  ${message}` },
    time: at.toISOString(),
    resourceId: '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DEMO-RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/pg-drive',
    category: 'PostgreSQLLogs',
    operationName: 'LogEvent',
    LogicalServerName: 'pg-drive',
  };
  return { body: { records: [record] }, partitionId: '0', sequenceNumber, enqueuedTimeUtc: new Date() };
}

function batch(from: number, count: number, told: string[]): SourceBatch<HubEvent> {
  const items = Array.from({ length: count }, (_, i) => event(from + i, `connection received: host=10.0.0.${from + i} port=5432`));
  const position = String(from + count - 1);
  return {
    sourceKey: 'eventhubs:test/hub/$default/0', source: 'eventhubs:hub/0', position, items,
    committed: () => void told.push(`committed ${position}`),
    abandoned: (reason) => void told.push(`abandoned ${position}: ${(reason as Error).message}`),
  };
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  return Number((await connection.runAndReadAll(sql)).getRows()[0]![0]);
}

describe('the driver of the pipeline', () => {
  let store: AuditStore;
  let reader: DuckDBConnection;
  before(async () => {
    store = await AuditStore.open(':memory:');
    reader = await store.db.instance.connect();
  });
  after(async () => {
    reader.closeSync();
    await store.close();
  });

  it('tells the after-commit hooks each batch in commit order, once its rows and position are visible to another connection', async () => {
    const pipeline = await IngestPipeline.create(store);
    const told: string[] = [];
    const seen: { position: string; rows: number; stored: string }[] = [];
    const exporter = async ({ target, counts }: CommittedBatch<SourceBatch<HubEvent>>) => {
      // Another connection (an exporter's) sees only committed rows: the batch's are there already.
      const rows = await count(reader, `SELECT count(*) FROM log_records WHERE source = 'eventhubs:hub/0'`);
      const stored = String((await reader.runAndReadAll(`SELECT position FROM source_positions WHERE source_key = 'eventhubs:test/hub/$default/0'`)).getRows()[0]![0]);
      seen.push({ position: target.position, rows, stored });
      told.push(`hook ${target.position} (${counts.records} records)`);
    };
    await driveSource([batch(0, 2, told), batch(2, 3, told), batch(5, 1, told)], { pipeline, decoder: hubEventDecoder(prefix), afterCommit: [exporter] });
    assert.deepEqual(seen, [
      { position: '1', rows: 2, stored: '1' },
      { position: '4', rows: 5, stored: '4' },
      { position: '5', rows: 6, stored: '5' },
    ]);
    assert.deepEqual(told, ['committed 1', 'hook 1 (2 records)', 'committed 4', 'hook 4 (3 records)', 'committed 5', 'hook 5 (1 records)']);
  });

  it('gives a batch that did not commit back to its source, stops, and tells no hook of it', async () => {
    const failing: InTransactionWriter = {
      async inTransaction(_connection, written) {
        if (written.entries.some((e) => e.record.message.includes('10.0.0.21 '))) throw new Error('the rule failed');
      },
    };
    const pipeline = await IngestPipeline.create(store, { observers: [failing] });
    const told: string[] = [];
    await assert.rejects(
      driveSource([batch(20, 1, told), batch(21, 1, told), batch(22, 1, told)], { pipeline, decoder: hubEventDecoder(prefix), afterCommit: [({ target }) => void told.push(`hook ${target.position}`)] }),
      /storing the batch of eventhubs:hub\/0 up to 21 failed, nothing of it was stored: the rule failed/,
    );
    assert.deepEqual(told.slice(0, 3), ['committed 20', 'hook 20', 'abandoned 21: storing the batch of eventhubs:hub/0 up to 21 failed, nothing of it was stored: the rule failed']);
    assert.ok(!told.includes('hook 21') && !told.includes('committed 21'));
    assert.equal(await count(reader, `SELECT count(*) FROM log_records WHERE message LIKE '%10.0.0.21 %'`), 0);
    assert.equal(String((await reader.runAndReadAll(`SELECT position FROM source_positions WHERE source_key = 'eventhubs:test/hub/$default/0'`)).getRows()[0]![0]), '20');
  });

  it('gathers consecutive batches into one transaction until the results bound, and commits the rest at the last batch', async () => {
    const pipeline = await IngestPipeline.create(store);
    const told: string[] = [];
    const committed: string[] = [];
    const batches = [batch(30, 2, told), batch(32, 2, told), batch(34, 2, told), batch(36, 1, told)];
    await driveSource(batches, {
      pipeline,
      decoder: hubEventDecoder(prefix),
      group: { results: 4, bytes: Number.POSITIVE_INFINITY, bytesOf: () => 0, isLast: (b) => b === batches.at(-1) },
      afterCommit: [({ target, counts }) => void committed.push(`${target.position}: ${counts.records}`)],
    });
    assert.deepEqual(committed, ['33: 4', '36: 3']);
    // Every batch a transaction covered hears that it committed.
    assert.deepEqual(told, ['committed 31', 'committed 33', 'committed 35', 'committed 36']);
  });
});
