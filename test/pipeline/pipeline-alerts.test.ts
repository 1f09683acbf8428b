/**
 * The pipeline's own alerts (a poison batch, events lost) are output like any rule's: an error message that quotes
 * the batch's data must not carry a secret into `alerts.summary` or `alerts.evidence`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { raisePipelineAlert } from '../../src/pipeline/pipeline-alerts.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';

const SECRET = 'Zq8-hunter2-Pw';

describe('pipeline alerts', () => {
  let db: Database;
  before(async () => {
    db = await openDatabase(':memory:');
  });
  after(async () => closeDatabase(db));

  it('are stored with the secrets their error messages quote redacted', async () => {
    await raisePipelineAlert(db.connection, {
      ruleId: 'pipeline.poison-batch',
      source: 'eventhubs:pg-logs/0',
      summary: `batch failed: Conversion Error near "ALTER ROLE app PASSWORD '${SECRET}'"`,
      evidence: { error: `postgresql://app:${SECRET}@db.example.com/prod`, attempts: 5 },
      dedupKey: 'eventhubs:pg-logs/0@42',
    });
    const reader = await db.connection.runAndReadAll(`SELECT summary, evidence::VARCHAR AS evidence FROM alerts`);
    const [row] = reader.getRowObjectsJS();
    assert.ok(row, 'the alert was stored');
    assert.doesNotMatch(String(row.summary), new RegExp(SECRET));
    assert.doesNotMatch(String(row.evidence), new RegExp(SECRET));
    assert.match(String(row.summary), /REDACTED/);
    assert.equal(JSON.parse(String(row.evidence)).attempts, 5);
  });
});
