/**
 * Alert latency at 10,000 records/s: Azure-shaped sessions and pgaudit lines arrive in batches every
 * 100 ms (1,000 records each), every batch carries one escalation (a new alert), the detector runs in
 * each batch's transaction, and the delivery loop posts to a local webhook. Latency is from the moment the
 * batch committed (processBatch resolved) to the webhook receiving the alert. Target: p99 under 1 s, and
 * ingest keeping pace (each batch processed within its 100 ms slot).
 * Run: node --import tsx bench/alert-latency.bench.ts [seconds]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createWebhookSink, startAlertDelivery } from '../src/alert/index.js';
import { createDetector } from '../src/detect/index.js';
import type { DecodeResult } from '../src/contracts/log-record.js';
import { IngestPipeline } from '../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../src/store/audit-store.js';
import { audit, login } from '../test/support/detection-records.js';

const seconds = Number(process.argv[2] ?? 20);
const RATE = 10_000;
const BATCH_MS = 100;
const PER_BATCH = (RATE * BATCH_MS) / 1000;

/** Receipt time by target (`intruder_<batch>`): one escalation per batch. */
const received = new Map<string, number>();
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (c: string) => (body += c));
  req.on('end', () => {
    received.set(String((JSON.parse(body) as { target: string }).target), performance.now());
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as AddressInfo).port;

const dir = await mkdtemp(join(tmpdir(), 'auditduck-alert-bench-'));
const store = await AuditStore.open(join(dir, 'bench.duckdb'));
const pipeline = await IngestPipeline.create(store, { observers: process.env.NO_DETECT ? [] : [createDetector({})] });
const log = pino({ level: 'warn' });
const delivery = startAlertDelivery({ connection: await store.db.instance.connect(), sinks: [createWebhookSink({ url: `http://127.0.0.1:${port}/hook` })], log, pollMs: 250 });

let clock = new Date('2026-11-24T10:00:00Z').getTime();
function batch(n: number): DecodeResult[] {
  const out: DecodeResult[] = [];
  while (out.length < PER_BATCH) {
    const s = login({ user: 'app_user', host: '10.0.0.7', at: new Date(clock) });
    out.push(...s.records);
    for (let i = 1; i <= 20 && out.length < PER_BATCH; i++) {
      clock += 1;
      out.push(audit('pg1', s.sessionId, new Date(clock), i, 'READ', 'SELECT', `SELECT abalance FROM pgbench_accounts WHERE aid = ${i};`));
    }
  }
  const dba = login({ user: 'dba', host: '10.0.0.8', at: new Date(clock) });
  out.push(...dba.records, audit('pg1', dba.sessionId, new Date(clock + 1), 1, 'ROLE', 'GRANT ROLE', `GRANT azure_pg_admin TO intruder_${n};`));
  return out;
}

const committedAt = new Map<string, number>();
const processing: number[] = [];
const batches = (seconds * 1000) / BATCH_MS;
const start = performance.now();
for (let n = 0; n < batches; n++) {
  const slot = start + n * BATCH_MS;
  const wait = slot - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t = performance.now();
  await pipeline.processBatch(batch(n), { sourceKey: 'bench', source: 'bench', position: String(n) });
  const done = performance.now();
  processing.push(done - t);
  committedAt.set(`intruder_${n}`, done);
  delivery.wake();
}
const elapsed = (performance.now() - start) / 1000;
const deadline = Date.now() + 10_000;
while (received.size < committedAt.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

const latencies = [...committedAt].filter(([id]) => received.has(id)).map(([id, at]) => received.get(id)! - at).sort((a, b) => a - b);
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const sortedProcessing = [...processing].sort((a, b) => a - b);
console.log(`# alert latency at ${RATE} records/s for ${seconds} s`);
console.log(`records/s achieved            ${Math.round((batches * PER_BATCH) / elapsed)}`);
console.log(`alerts raised / delivered     ${committedAt.size} / ${received.size}`);
console.log(`batch processing p50 / p99 ms ${pct(sortedProcessing, 50).toFixed(1)} / ${pct(sortedProcessing, 99).toFixed(1)}`);
console.log(`commit→webhook p50 / p99 ms   ${pct(latencies, 50).toFixed(1)} / ${pct(latencies, 99).toFixed(1)} (max ${latencies.at(-1)?.toFixed(1)})`);
console.log(`peak RSS MB                   ${Math.round(process.resourceUsage().maxRSS / 1024)}`);

await delivery.stop();
await store.close();
server.close();
await rm(dir, { recursive: true, force: true });
