/**
 * Detection made cheaper (issue 21: batched look-ups, one outbox round for every rule) must raise the same
 * alerts as before. The fixture holds the alerts main's build (8243896, before those changes) raised on this
 * generated input, cut into small batches so that windows, alerts growing and suppression cross batches.
 * Alerts are compared by what they are, not by their ids. When a rule is changed on purpose, rewrite the fixture
 * from the current code with AUDITDUCK_RECORD_ALERTS=1 and review its diff.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadRunConfig } from '../../src/config/run-config.js';
import { createDetector } from '../../src/detect/index.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const FIXTURE = new URL('./fixtures/synthetic-alerts.json', import.meta.url);

/** Every alert with its privilege changes, in UTC epoch milliseconds so that no time zone enters. */
export const ALERT_CONTENTS = `SELECT rule_id, severity, server, epoch_ms(first_seen) AS first_seen, epoch_ms(last_seen) AS last_seen, actor, target,
    summary, evidence::VARCHAR AS evidence, mitre, status, dedup_key, count,
    (SELECT list(coalesce(c.session_id, '') || '/' || epoch_ms(c.logged_at) || '/' || c.seq ORDER BY c.seq, c.session_id)
     FROM alert_changes c WHERE c.alert_id = a.alert_id) AS changes
  FROM alerts a ORDER BY rule_id, server, dedup_key, first_seen, last_seen`;

describe('detection on the generated input', () => {
  it('raises the alerts main raised, batch by batch of 2,000 records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-same-alerts-'));
    try {
      const input = join(dir, 'hub.jsonl');
      await writeFile(input, [...syntheticBodies({ records: 30_000, servers: 3, seed: 7 })].join('\n') + '\n');
      const db = join(dir, 'store.duckdb');
      const detector = createDetector((await loadRunConfig(undefined, {})).detection);
      await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger, batchRecords: 2_000, observers: [detector] });
      const alerts = JSON.parse(JSON.stringify(await queryStore(db, ALERT_CONTENTS))) as unknown[];
      if (process.env.AUDITDUCK_RECORD_ALERTS === '1') await writeFile(FIXTURE, `${JSON.stringify(alerts, null, 1)}\n`);
      const expected = JSON.parse(await readFile(FIXTURE, 'utf8')) as unknown[];
      assert.ok(expected.length > 40, 'the fixture holds the alerts of several rules');
      assert.deepEqual(alerts, expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
