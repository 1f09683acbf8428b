/**
 * The lake's cost as the store ages (issue 18): what one export of a minute's changes costs on a store holding A
 * sessions, A/1,000 live snapshots and A/100 alerts from before, against the same on a store four times as old.
 * The export is timed on the open store as `run` pays it, after a batch merged 500 sessions, one more snapshot
 * came in (350 settings) and one alert grew; besides its CPU, the bytes it added to the lake. An export that
 * writes what changed costs the same at both ages (target: within 1.25×); one that rewrites whole tables costs
 * four times as much.
 *
 *   node --import tsx bench/lake-age.bench.ts [sessions]     (default 100000: A, and 4 × A)
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionState } from '../src/analyze/sessions/session-tracker.js';
import { AuditStore } from '../src/store/audit-store.js';
import { timeExport } from './lake-export.bench.js';

const ROUNDS = 5;
const TARGET_RATIO = 1.25;

interface Aged {
  exportCpuSeconds: number;
  lakeBytes: number;
}

/** One snapshot of a server: its head row and 350 settings, 15 minutes after the one before. */
function snapshotSql(i: number): string {
  const at = `TIMESTAMPTZ '2026-11-01 00:00:00+00' + INTERVAL ${i * 15} MINUTE`;
  return `INSERT INTO snapshots VALUES ('snap-${i}', 'pg-${i % 20}', ${at}, 150000, 'auditduck', []);
    INSERT INTO setting_snapshots SELECT 'snap-${i}', 'pg-${i % 20}', ${at}, 'setting_' || s, 'value ' || s, 'default' FROM range(350) t(s);`;
}

function newSessions(round: number): SessionState[] {
  const at = new Date(Date.UTC(2026, 10, 20, 10, round));
  return Array.from({ length: 500 }, (_, i) => ({
    server: `pg-${i % 20}`, sessionId: `new-${round}-${i}`, pid: i, startedAt: at, endedAt: null, userName: `user${i % 300}`, databaseName: 'db',
    applicationName: null, clientAddr: '10.1.1.1', clientPort: 5000, authMethod: null, authIdentity: null, ssl: true, sslProtocol: 'TLSv1.3',
    sslCipher: null, replication: false,
  }));
}

async function benchAge(sessions: number): Promise<Aged> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-lake-age-'));
  const db = join(dir, 'store.duckdb');
  const lake = join(dir, 'lake');
  const snapshots = Math.round(sessions / 1_000);
  try {
    const store = await AuditStore.open(db);
    try {
      await store.connection.run(
        `INSERT INTO sessions (server, session_id, pid, started_at, user_name, database_name, client_addr)
         SELECT 'pg-' || (i % 20), 'old-' || i, i, TIMESTAMPTZ '2026-11-01 00:00:00+00' + INTERVAL (i) SECOND, 'user' || (i % 300), 'db', '10.0.' || (i % 250) || '.1'
         FROM range(${sessions}) t(i)`,
      );
      for (let i = 0; i < snapshots; i++) await store.connection.run(snapshotSql(i));
      await store.connection.run(
        `INSERT INTO alerts (alert_id, rule_id, severity, server, first_seen, last_seen, actor, summary, evidence, dedup_key)
         SELECT i, 'brute-force', 'high', 'pg-' || (i % 20), TIMESTAMPTZ '2026-11-01 00:00:00+00', TIMESTAMPTZ '2026-11-01 00:00:00+00', 'user' || i,
                'failed logins for user' || i, json_object('samples', [json_object('at', '2026-11-01T00:00:00Z', 'client', '10.0.0.' || (i % 250), 'sqlstate', '28P01') FOR _ IN range(10)]), 'k' || i
         FROM range(${Math.round(sessions / 100)}) t(i)`,
      );
    } finally {
      await store.close();
    }
    await timeExport(db, lake, 'ingest');
    const rounds: Aged[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const aged = await AuditStore.open(db);
      try {
        const batch = aged.newBatch();
        batch.setSessions(newSessions(round));
        await aged.commit(batch, { sourceKey: 'bench', source: 'bench', position: String(round) });
        await aged.connection.run(snapshotSql(snapshots + round));
        await aged.connection.run(`UPDATE alerts SET count = count + 1, updated_at = now() WHERE alert_id = ${round}`);
      } finally {
        await aged.close();
      }
      const before = await bytesUnder(lake);
      const { cpuSeconds } = await timeExport(db, lake, 'ingest');
      rounds.push({ exportCpuSeconds: cpuSeconds, lakeBytes: (await bytesUnder(lake)) - before });
    }
    const median = (key: keyof Aged) => [...rounds].sort((a, b) => a[key] - b[key])[Math.floor(rounds.length / 2)]![key];
    return { exportCpuSeconds: median('exportCpuSeconds'), lakeBytes: median('lakeBytes') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function bytesUnder(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).size));
  return sizes.reduce((n, s) => n + s, 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sessions = Number(process.argv[2] ?? 100_000);
  console.log(`# lake export as the store ages (500 sessions and a snapshot a round, median of ${ROUNDS} rounds)`);
  const young = await benchAge(sessions);
  const old = await benchAge(sessions * 4);
  const ratio = old.exportCpuSeconds / young.exportCpuSeconds;
  const row = (label: string, a: Aged) => console.log(`${label.padEnd(50)} export CPU ${(a.exportCpuSeconds * 1000).toFixed(0)} ms, lake +${(a.lakeBytes / 1024).toFixed(0)} KiB`);
  row(`${sessions} sessions, ${sessions / 1_000} snapshots, ${sessions / 100} alerts`, young);
  row(`${sessions * 4} sessions, ${(sessions * 4) / 1_000} snapshots, ${(sessions * 4) / 100} alerts`, old);
  console.log(`four times as old: export CPU ${ratio.toFixed(2)}×, lake bytes ${(old.lakeBytes / young.lakeBytes).toFixed(2)}× (target ≤ ${TARGET_RATIO}×) ${ratio <= TARGET_RATIO ? 'ok' : 'MISSED'}`);
}
