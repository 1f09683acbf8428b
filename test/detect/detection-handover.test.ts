/**
 * What a hub's leader hands to the next one for detection (docs/fleet.md): the rows windowed rules count and the
 * keys of the alerts it raised, so that evidence split by a takeover is counted whole, in one store, and an alert
 * is raised in one store only. Two real stores, each with its pipeline and detector, stand for the two leaders;
 * the handover goes through the pipeline's body as the hub member writes and reads it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { DecodeResult } from '../../src/contracts/log-record.js';
import { createDetector } from '../../src/detect/index.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { failedLogin } from '../support/detection-records.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

interface Leader {
  pipeline: IngestPipeline;
  store: AuditStore;
}

async function withLeaders(run: (a: Leader, b: Leader) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-detection-handover-'));
  const stores = [await AuditStore.open(join(dir, 'a.duckdb')), await AuditStore.open(join(dir, 'b.duckdb'))];
  try {
    const leaders = await Promise.all(stores.map(async (store) => ({ store, pipeline: await IngestPipeline.create(store, { observers: [createDetector()] }) })));
    await run(leaders[0]!, leaders[1]!);
  } finally {
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

let nextSeq = 1000;

/** `n` failed password logins of `user`, a second apart from `fromMs`, as records of one hub partition from sequence number `seq`. */
function failures(user: string, n: number, fromMs: number, origin = { source: 'synthetic', seq: (nextSeq += 100) }): DecodeResult[] {
  const out: DecodeResult[] = [];
  for (let i = 0; i < n; i++) {
    failedLogin({ user, at: at(fromMs + i * 1000), host: '10.0.0.9' }).forEach((result, k) => {
      if (result.kind !== 'record') throw new Error('a failed login is records');
      out.push({ kind: 'record', record: { ...result.record, source: origin.source, position: `${origin.seq + i}#${k}` } });
    });
  }
  return out;
}

const batch = (source: string, position: string) => ({ sourceKey: null, source, position });

async function alertsOf(store: AuditStore, rule: string): Promise<{ key: string; count: number }[]> {
  const reader = await store.connection.runAndReadAll(`SELECT dedup_key, count FROM alerts WHERE rule_id = '${rule}' ORDER BY alert_id`);
  return reader.getRows().map(([key, count]) => ({ key: String(key), count: Number(count) }));
}

describe('the detection context handed to a hub\'s next leader', () => {
  it('counts failures split by a takeover whole: a brute force raised once, in the new leader\'s store', async () => {
    await withLeaders(async (a, b) => {
      await a.pipeline.processBatch(failures('split_victim', 6, 0), batch('eventhubs:hub/0', '1'));
      b.pipeline.sessionHandover.adopt(a.pipeline.sessionHandover.encode('a'));
      await b.pipeline.processBatch(failures('split_victim', 5, 6_000), batch('eventhubs:hub/1', '1'));
      assert.deepEqual(await alertsOf(a.store, 'brute-force'), [], 'six failures are no burst in the old store');
      assert.deepEqual(await alertsOf(b.store, 'brute-force'), [{ key: 'split_victim', count: 11 }], 'eleven across both: the new store raises it');
    });
  });

  it('does not raise again an alert the old leader raised, when the evidence goes on after the takeover', async () => {
    await withLeaders(async (a, b) => {
      await a.pipeline.processBatch(failures('long_attack', 10, 0), batch('eventhubs:hub/0', '1'));
      assert.equal((await alertsOf(a.store, 'brute-force')).length, 1);
      b.pipeline.sessionHandover.adopt(a.pipeline.sessionHandover.encode('a'));
      await b.pipeline.processBatch(failures('long_attack', 10, 10_000), batch('eventhubs:hub/1', '1'));
      assert.deepEqual(await alertsOf(b.store, 'brute-force'), [], 'the alert is in the old store already');
      // Handed on again, the key still covers the story: a third leader raises nothing either.
      a.pipeline.sessionHandover.adopt(b.pipeline.sessionHandover.encode('b'), { self: 'a', committed: () => true });
      await a.pipeline.processBatch(failures('long_attack', 2, 20_000), batch('eventhubs:hub/2', '1'));
      assert.equal((await alertsOf(a.store, 'brute-force')).length, 1, 'the old store grows its own alert');
    });
  });

  it('takes nothing of a batch that never committed: the new leader reads it again and raises its alert', async () => {
    await withLeaders(async (a, b) => {
      // A stored sequence numbers 0–9 of partition 0 and raised the alert in that batch, but was killed before COMMIT.
      await a.pipeline.processBatch(failures('in_doubt', 10, 0, { source: 'eventhubs:hub/0', seq: 0 }), batch('eventhubs:hub/0', '9'));
      const committed = (source: string, position: string) => source !== 'eventhubs:hub/0' || Number.parseInt(position, 10) <= -1;
      b.pipeline.sessionHandover.adopt(a.pipeline.sessionHandover.encode('a'), { self: 'b', committed });
      await b.pipeline.processBatch(failures('in_doubt', 10, 0, { source: 'eventhubs:hub/0', seq: 0 }), batch('eventhubs:hub/0', '9'));
      assert.deepEqual(await alertsOf(b.store, 'brute-force'), [{ key: 'in_doubt', count: 10 }], 'counted once, raised here');
    });
  });

  it('does not count twice the rows its own store holds when they come back in a handover', async () => {
    await withLeaders(async (a, b) => {
      await a.pipeline.processBatch(failures('ping_pong', 6, 0), batch('eventhubs:hub/0', '1'));
      b.pipeline.sessionHandover.adopt(a.pipeline.sessionHandover.encode('a'), { self: 'b', committed: () => true });
      await b.pipeline.processBatch(failures('ping_pong', 2, 6_000), batch('eventhubs:hub/1', '1'));
      // A leads again: B's handover holds A's six rows (A's store has them) and B's two.
      a.pipeline.sessionHandover.adopt(b.pipeline.sessionHandover.encode('b'), { self: 'a', committed: () => true });
      await a.pipeline.processBatch(failures('ping_pong', 1, 8_000), batch('eventhubs:hub/2', '1'));
      assert.deepEqual(await alertsOf(a.store, 'brute-force'), [], 'nine failures, not fifteen');
      await a.pipeline.processBatch(failures('ping_pong', 1, 9_000), batch('eventhubs:hub/2', '2'));
      assert.deepEqual(await alertsOf(a.store, 'brute-force'), [{ key: 'ping_pong', count: 10 }]);
    });
  });

  it('keeps the handover within its window: rows older than the longest window before the newest are not handed on', async () => {
    await withLeaders(async (a) => {
      await a.pipeline.processBatch(failures('old_noise', 3, 0), batch('eventhubs:hub/0', '1'));
      // Two hours later (the longest window is role-created-and-dropped's 60 minutes).
      await a.pipeline.processBatch(failures('new_noise', 1, 2 * 3_600_000), batch('eventhubs:hub/0', '2'));
      const { gunzipSync } = await import('node:zlib');
      const doc = JSON.parse(gunzipSync(a.pipeline.sessionHandover.encode('a')).toString('utf8')) as { parts: { detection: { evidence: { auth: unknown[][] } } } };
      assert.deepEqual(doc.parts.detection.evidence.auth.map((row) => row[6]), ['new_noise']);
    });
  });
});
