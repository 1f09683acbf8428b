/**
 * The snapshot schedule inside `auditduck run`: every watched server is read every `intervalMs`, each on
 * its own timer, so a server that is down delays nobody. A failure is logged with its reason and retried
 * with exponential backoff (capped at the interval); nothing is ever thrown into the caller, so ingestion
 * goes on whatever the watched servers do. After each snapshot, and on each tick, windows whose trail
 * has arrived are evaluated for drift.
 *
 * The schedule writes through its own DuckDB connection (transactions of the ingest connection are not
 * shared), serialized: one store transaction at a time. A write conflict with ingestion is retried too.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TokenCredential } from '@azure/identity';
import type { Logger } from 'pino';
import type { AuditStore } from '../store/audit-store.js';
import { evaluateDrift, describeDrift } from './evaluate-drift.js';
import { passwordFor, ServerConnectError, type PasswordProvider } from './server-connection.js';
import { takeSnapshot } from './take-snapshot.js';
import type { ReplayBases } from './replay-bases.js';
import type { WatchedServer } from './watched-server.js';

export interface SnapshotScheduleOptions {
  /** The running store (a new connection on its DuckDB instance is used), or a connection provider. */
  store?: AuditStore;
  connect?: () => Promise<DuckDBConnection>;
  /** The bases the pipeline writing the same store replays roles on: each snapshot committed invalidates its server's. */
  bases?: ReplayBases;
  servers: readonly WatchedServer[];
  intervalMs: number;
  log: Logger;
  passwordMaxAgeDays?: number;
  /** First retry after this long, doubling up to `intervalMs` (default 5 s). */
  initialBackoffMs?: number;
  credential?: TokenCredential;
  env?: NodeJS.ProcessEnv;
}

export interface ServerScheduleStatus {
  server: string;
  lastSuccessAt: Date | null;
  lastSnapshotId: string | null;
  consecutiveFailures: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
}

export interface SnapshotSchedule {
  stop(): Promise<void>;
  status(): ServerScheduleStatus[];
}

export function startSnapshotSchedule(opts: SnapshotScheduleOptions): SnapshotSchedule {
  const { log, intervalMs } = opts;
  const initialBackoff = Math.min(opts.initialBackoffMs ?? 5_000, intervalMs);
  const connect = opts.connect ?? (opts.store ? () => opts.store!.db.instance.connect() : undefined);
  if (!connect) throw new Error('startSnapshotSchedule needs the store or a connection provider');
  let connection: Promise<DuckDBConnection> | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  /** One store transaction at a time on the schedule's connection. */
  const serialized = <T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    connection ??= connect();
    const next = queue.then(async () => work(await connection!));
    queue = next.catch(() => undefined);
    return next;
  };

  let stopped = false;
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const states = new Map<string, ServerScheduleStatus>();
  const passwords = new Map<string, PasswordProvider>();
  for (const server of opts.servers) {
    states.set(server.name, { server: server.name, lastSuccessAt: null, lastSnapshotId: null, consecutiveFailures: 0, lastError: null, nextAttemptAt: new Date() });
    passwords.set(server.name, passwordFor(server, { ...(opts.credential ? { credential: opts.credential } : {}), ...(opts.env ? { env: opts.env } : {}) }));
  }

  const schedule = (server: WatchedServer, delayMs: number): void => {
    if (stopped) return;
    states.get(server.name)!.nextAttemptAt = new Date(Date.now() + delayMs);
    timers.set(server.name, setTimeout(() => {
      const attempt = tick(server).finally(() => running.delete(attempt));
      running.add(attempt);
    }, delayMs));
  };

  const tick = async (server: WatchedServer): Promise<void> => {
    const state = states.get(server.name)!;
    try {
      const result = await serialized((connection) =>
        takeSnapshot(server, { connection, password: passwords.get(server.name)!, passwordMaxAgeDays: opts.passwordMaxAgeDays ?? 365, ...(opts.bases ? { bases: opts.bases } : {}) }),
      );
      state.lastSuccessAt = new Date();
      state.lastSnapshotId = result.snapshotId;
      state.consecutiveFailures = 0;
      state.lastError = null;
      log.info({ server: server.name, snapshotId: result.snapshotId, roles: result.roles, findings: result.findings.length, unreadable: result.unreadable }, 'snapshot taken');
      await evaluate(server.name);
      schedule(server, intervalMs);
    } catch (error) {
      state.consecutiveFailures += 1;
      const reason = error instanceof ServerConnectError ? error.reason : (error as Error).message;
      state.lastError = reason;
      const delay = Math.min(intervalMs, initialBackoff * 2 ** (state.consecutiveFailures - 1));
      log.warn({ server: server.name, failures: state.consecutiveFailures, retryInMs: delay, reason }, `snapshot of ${server.name} failed: ${reason}`);
      // Drift of windows already stored may be due even while the server is unreachable.
      await evaluate(server.name);
      schedule(server, delay);
    }
  };

  const evaluate = async (server: string): Promise<void> => {
    try {
      const results = await serialized((connection) => evaluateDrift(connection, { servers: [server] }));
      for (const r of results) {
        if (r.status === 'waiting-for-trail') {
          log.debug({ server, windowEnd: r.to.takenAt, trailReachesTo: r.trailReachesTo }, 'drift window waits for the trail');
          continue;
        }
        for (const d of r.drift) log.warn({ server, drift: d }, `change not in the audit trail: ${describeDrift(d)}`);
      }
    } catch (error) {
      log.warn({ server, reason: (error as Error).message }, 'drift evaluation failed; retried on the next tick');
    }
  };

  for (const server of opts.servers) schedule(server, 0);

  return {
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...running]);
      await queue;
      if (connection) (await connection.catch(() => null))?.closeSync();
    },
    status: () => [...states.values()].map((s) => ({ ...s })),
  };
}
