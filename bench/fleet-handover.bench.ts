/**
 * What the fleet handover costs a leader per batch (docs/fleet.md): encoding the sessions alone (the baseline,
 * as before the detection context) against the whole handover (sessions, open transactions, the window's rows
 * and alert keys), after a generated stream; and how many batches move the detection context, each of which
 * writes the handover once more inside its transaction. Then the same at the bounds (20,000 evidence rows).
 * Run: node --import tsx bench/fleet-handover.bench.ts [records=60000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { encodeSessionHandover } from '../src/analyze/sessions/session-handover.js';
import type { DecodeResult } from '../src/contracts/log-record.js';
import { decodeEventBody } from '../src/decode/azure/azure-record.js';
import { compilePrefix } from '../src/decode/prefix/compile-prefix.js';
import { createDetector } from '../src/detect/index.js';
import { IngestPipeline } from '../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../src/store/audit-store.js';
import { syntheticBodies } from '../test/support/synthetic-events.js';

const RECORDS = Number(process.argv[2] ?? 60_000);
const PER_BATCH_BODIES = 20;

function timeIt(fn: () => unknown, rounds = 20): number {
  fn();
  const started = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - started) / rounds;
}

const dir = await mkdtemp(join(tmpdir(), 'auditduck-handover-bench-'));
const store = await AuditStore.open(join(dir, 'a.duckdb'));
try {
  const detector = createDetector();
  const pipeline = await IngestPipeline.create(store, { observers: [detector] });
  const prefix = compilePrefix('%t-%c-');
  const bodies = [...syntheticBodies({ records: RECORDS, recordsPerBody: 10, servers: 2 })];
  let batches = 0;
  let movedInTransaction = 0;
  const started = performance.now();
  for (let i = 0; i < bodies.length; i += PER_BATCH_BODIES) {
    const results: DecodeResult[] = [];
    bodies.slice(i, i + PER_BATCH_BODIES).forEach((body, k) => results.push(...decodeEventBody(JSON.parse(body), { source: 'eventhubs:bench/0', position: String(i + k), prefix })));
    const before = pipeline.sessionHandover.inTransactionVersion();
    await pipeline.processBatch(results, { sourceKey: 'bench', source: 'eventhubs:bench/0', position: String(i + PER_BATCH_BODIES - 1) });
    if (pipeline.sessionHandover.inTransactionVersion() !== before) movedInTransaction++;
    batches++;
  }
  const ingestMs = performance.now() - started;
  const sessionsOnly = timeIt(() => encodeSessionHandover(pipeline.sessions.handOver()));
  const whole = timeIt(() => pipeline.sessionHandover.encode('bench'));
  const sizes = { sessionsOnly: encodeSessionHandover(pipeline.sessions.handOver()).byteLength, whole: pipeline.sessionHandover.encode('bench').byteLength };

  // At the bound: 20,000 auth failures in the window (a spray of one host), adopted as another leader's rows.
  const doc = detector.handover.handOver('other');
  const t0 = Date.parse('2026-11-20T00:05:00Z') * 1000;
  for (let i = 0; i < 20_000; i++) doc.evidence.auth.push([`spray\u0000${i}`, 'eventhubs:bench/1', `${i}#0`, 'other', 'bench-pg-0', t0 + i * 1000, `user_${i}`, '203.0.113.7', '28P01']);
  detector.handover.adopt(doc, 'bench', () => true);
  const atBound = timeIt(() => pipeline.sessionHandover.encode('bench'), 5);
  const boundBytes = pipeline.sessionHandover.encode('bench').byteLength;

  console.log(
    JSON.stringify(
      {
        records: RECORDS, batches, ingestMsPerBatch: +(ingestMs / batches).toFixed(2), batchesMovingDetection: movedInTransaction,
        encodeMs: { sessionsOnly: +sessionsOnly.toFixed(3), whole: +whole.toFixed(3), ratio: +(whole / sessionsOnly).toFixed(2), atBound: +atBound.toFixed(2) },
        bytes: { ...sizes, atBound: boundBytes },
        loadavg: loadavg().map((l) => +l.toFixed(1)),
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
