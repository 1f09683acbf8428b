/**
 * Where detection's time goes, per batch (issue 21): the real detector on the ingest bench's generated input, with
 * each rule's `evaluate` timed and every DuckDB statement it (or the outbox after it) sends counted. In-process,
 * so its figures are wall time on the main thread (a rule's await includes DuckDB running its query).
 *
 *   node --import tsx bench/detection-profile.ts [records] [batchRecords]     (default 100000, 50000)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pino } from 'pino';
import { loadRunConfig } from '../src/config/run-config.js';
import { createDetector } from '../src/detect/index.js';
import type { InTransactionWriter } from '../src/detect/written-batch.js';
import { RULES } from '../src/detect/rules/registry.js';
import { ingestFiles } from '../src/pipeline/ingest-files.js';
import { writeSyntheticBodies } from './generate-bodies.js';

interface Tally {
  ms: number;
  queries: number;
  calls: number;
}

const records = Number(process.argv[2] ?? 100_000);
const batchRecords = Number(process.argv[3] ?? 50_000);
const tallies = new Map<string, Tally>();
let phase = 'outbox';

function tally(name: string): Tally {
  let t = tallies.get(name);
  if (!t) tallies.set(name, (t = { ms: 0, queries: 0, calls: 0 }));
  return t;
}

/** The connection as the rules see it: every statement sent is counted against the phase that sent it. */
function counting(connection: DuckDBConnection): DuckDBConnection {
  return new Proxy(connection, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && /^(run|runAndRead|runAndReadAll|stream|prepare)/.test(prop)) {
        return async (...args: unknown[]) => {
          // The detector's own reads before the rules: the windowed rules' stored rows, one query a table.
          const name = phase === 'outbox' && typeof args[0] === 'string' && args[0].includes('epoch_us(logged_at)') ? 'stored windows' : phase;
          const started = performance.now();
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            const t = tally(name);
            t.queries++;
            if (name !== phase) t.ms += performance.now() - started;
          }
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

// Each rule's evaluate, timed under its own name.
for (const [id, rule] of Object.entries(RULES) as [string, { evaluate?: (ctx: unknown) => unknown }][]) {
  const evaluate = rule.evaluate;
  if (!evaluate) continue;
  rule.evaluate = async (ctx: unknown) => {
    phase = id;
    const started = performance.now();
    try {
      return await evaluate.call(rule, ctx);
    } finally {
      const t = tally(id);
      t.ms += performance.now() - started;
      t.calls++;
      phase = 'outbox';
    }
  };
}

const dir = await mkdtemp(join(tmpdir(), 'auditduck-detection-profile-'));
try {
  const input = join(dir, 'hub.jsonl');
  await writeSyntheticBodies(input, records);
  const detector = createDetector((await loadRunConfig(undefined, {})).detection);
  let batches = 0;
  let detectionMs = 0;
  const observer: InTransactionWriter = {
    keepsEntry: (entry, madeChanges) => detector.keepsEntry!(entry, madeChanges),
    readsMergedSessions: detector.readsMergedSessions ?? false,
    rolledBack: () => detector.rolledBack?.(),
    async inTransaction(connection, batch) {
      batches++;
      const started = performance.now();
      phase = 'outbox';
      await detector.inTransaction(counting(connection), batch);
      detectionMs += performance.now() - started;
    },
  };
  const started = performance.now();
  await ingestFiles([input], { dbPath: join(dir, 'store.duckdb'), format: 'auto', logLinePrefix: '%t-%c-', log: pino({ level: 'warn' }), batchRecords, observers: [observer] });
  const totalMs = performance.now() - started;
  // The rest of the detector's time: building BatchFacts, the outbox's look-up and write, retractions.
  const rulesMs = [...tallies].filter(([k]) => k !== 'outbox').reduce((s, [, t]) => s + t.ms, 0);
  tally('outbox').ms = detectionMs - rulesMs;
  console.log(`${records} records, ${batches} batches of up to ${batchRecords}; ingest ${(totalMs / 1000).toFixed(2)} s, detection ${(detectionMs / 1000).toFixed(2)} s in the transactions`);
  const rows = [...tallies]
    .filter(([, t]) => t.queries > 0 || t.ms / batches >= 0.05)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, t]) => ({ phase: name === 'outbox' ? 'facts + outbox' : name, 'ms/batch': Number((t.ms / batches).toFixed(2)), 'queries/batch': Number((t.queries / batches).toFixed(2)) }));
  console.table(rows);
  const queries = [...tallies.values()].reduce((s, t) => s + t.queries, 0);
  console.log(`DuckDB statements per batch from detection: ${(queries / batches).toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
