import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { quarantineHubBatch } from '../../src/pipeline/quarantine-batch.js';
import { AuditStore } from '../../src/store/audit-store.js';

describe('quarantineHubBatch', () => {
  it('commits the marks of the routed origins the poison batch held: they are not stored again when read again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-quarantine-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    try {
      const pipeline = await IngestPipeline.create(store);
      const mark = { sourceKey: 'routed:eventhubs:pg-busy/2|pg-a', source: 'eventhubs:pg-busy/2', position: '41#3' };
      await quarantineHubBatch(
        pipeline,
        {
          sourceKey: 'eventhubs:ns/pg-busy-keyed/$default/0',
          source: 'eventhubs:pg-busy-keyed/0',
          position: '7',
          items: [{ body: { records: [] }, partitionId: '0', sequenceNumber: 7, enqueuedTimeUtc: new Date(0) }],
          marks: [mark],
        },
        new Error('boom'),
        3,
      );
      assert.equal(await store.readPosition('eventhubs:ns/pg-busy-keyed/$default/0'), '7');
      assert.equal(await store.readPosition(mark.sourceKey), '41#3');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
