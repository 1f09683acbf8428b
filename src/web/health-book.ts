/**
 * What `run` knows about its own health, for /healthz, /readyz and /metrics: per partition its state, last
 * commit and consecutive failures; whether the store can commit; and, through the caller, the alert sinks and
 * the snapshot servers. `assessReadiness` turns a view of it into a verdict with reasons an operator can act on
 * (docs/operations.md lists each). Texts that leave the process here never carry a file path: /healthz may
 * be reachable by more people than the host's file system is.
 */
import type { CommitFailureCause } from '../pipeline/batch-retry.js';
import type { LakeStatus } from '../lake/index.js';

export type PartitionState = 'ok' | 'retrying';

export interface PartitionHealth {
  partition: string;
  state: PartitionState;
  lastCommitAt: string | null;
  consecutiveFailures: number;
  /** When the current run of failures began; null while ok. */
  failingSince: string | null;
  lastError: string | null;
  /** Batches of this partition set aside as poison since start. */
  quarantinedBatches: number;
}

export interface StoreHealth {
  /** Since when commits fail for a reason of the store (disk full, I/O); null when the last commit worked. */
  failingSince: string | null;
  lastError: string | null;
}

export interface SinkHealth {
  sink: string;
  consecutiveFailures: number;
  failingSince: Date | null;
  lastError: string | null;
}

export interface SnapshotServerHealth {
  server: string;
  consecutiveFailures: number;
  lastError: string | null;
}

export interface ReadinessThresholds {
  /** A partition failing for longer than this makes the instance not ready. */
  partitionFailingMs: number;
  /** An alert sink failing for longer than this makes the instance not ready. */
  sinkFailingMs: number;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
  partitions: PartitionHealth[];
  store: StoreHealth;
  sinks: { sink: string; consecutiveFailures: number; failingSince: string | null; lastError: string | null }[];
  snapshots: SnapshotServerHealth[];
  /** The lake export, when `run` has a lake. */
  lake?: LakeStatus;
}

export class HealthBook {
  private readonly partitions = new Map<string, PartitionHealth>();
  private readonly store: StoreHealth = { failingSince: null, lastError: null };

  committed(partition: string, at = new Date()): void {
    const entry = this.entry(partition);
    entry.state = 'ok';
    entry.lastCommitAt = at.toISOString();
    entry.consecutiveFailures = 0;
    entry.failingSince = null;
    entry.lastError = null;
    this.store.failingSince = null;
    this.store.lastError = null;
  }

  quarantined(partition: string, at = new Date()): void {
    this.committed(partition, at);
    this.entry(partition).quarantinedBatches++;
  }

  failed(partition: string, cause: CommitFailureCause, error: unknown, at = new Date()): void {
    const entry = this.entry(partition);
    const message = withoutPaths(error instanceof Error ? error.message : String(error));
    entry.state = 'retrying';
    entry.consecutiveFailures++;
    entry.failingSince ??= at.toISOString();
    entry.lastError = message;
    if (cause === 'store') {
      this.store.failingSince ??= at.toISOString();
      this.store.lastError = message;
    }
  }

  /** A partition this instance no longer reads (moved to another instance, or closed). */
  released(partition: string): void {
    this.partitions.delete(partition);
  }

  view(): { partitions: PartitionHealth[]; store: StoreHealth } {
    return {
      partitions: [...this.partitions.values()].map((p) => ({ ...p })).sort((a, b) => a.partition.localeCompare(b.partition, 'en', { numeric: true })),
      store: { ...this.store },
    };
  }

  private entry(partition: string): PartitionHealth {
    let entry = this.partitions.get(partition);
    if (!entry) {
      entry = { partition, state: 'ok', lastCommitAt: null, consecutiveFailures: 0, failingSince: null, lastError: null, quarantinedBatches: 0 };
      this.partitions.set(partition, entry);
    }
    return entry;
  }
}

export function assessReadiness(
  book: { partitions: PartitionHealth[]; store: StoreHealth },
  sinks: readonly SinkHealth[],
  snapshots: readonly SnapshotServerHealth[],
  thresholds: ReadinessThresholds,
  now = new Date(),
): Readiness {
  const reasons: string[] = [];
  if (book.store.failingSince) reasons.push(`the store cannot commit since ${book.store.failingSince}: ${book.store.lastError}`);
  for (const p of book.partitions) {
    if (p.failingSince && now.getTime() - Date.parse(p.failingSince) >= thresholds.partitionFailingMs) {
      reasons.push(`partition ${p.partition} has failed ${p.consecutiveFailures} times since ${p.failingSince}: ${p.lastError}`);
    }
  }
  for (const s of sinks) {
    if (s.failingSince && now.getTime() - s.failingSince.getTime() >= thresholds.sinkFailingMs) {
      reasons.push(`alert sink ${s.sink} has failed ${s.consecutiveFailures} times since ${s.failingSince.toISOString()}: ${withoutPaths(s.lastError ?? '')}`);
    }
  }
  const servers = snapshots.map((s) => ({ ...s, lastError: s.lastError === null ? null : withoutPaths(s.lastError) }));
  for (const s of servers) if (s.consecutiveFailures > 0) reasons.push(`snapshot server ${s.server} is unreachable (${s.consecutiveFailures} failures): ${s.lastError}`);
  return {
    ready: reasons.length === 0,
    reasons,
    partitions: book.partitions,
    store: book.store,
    sinks: sinks.map((s) => ({ sink: s.sink, consecutiveFailures: s.consecutiveFailures, failingSince: s.failingSince?.toISOString() ?? null, lastError: s.lastError === null ? null : withoutPaths(s.lastError) })),
    snapshots: servers,
  };
}

/** Absolute file paths (two or more segments) replaced: an error message keeps its meaning, not the layout of the host. */
export function withoutPaths(text: string): string {
  return text.replace(/(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?/g, '<path>');
}

/**
 * The lake's part of readiness: failing exports for longer than `failingMs` make the instance not ready
 * (ingestion goes on; the lake catches up once it answers).
 */
export function withLakeHealth(readiness: Readiness, lake: LakeStatus, failingMs: number, now = new Date()): Readiness {
  const status = publicLakeStatus(lake);
  const reasons = [...readiness.reasons];
  if (status.failingSince && now.getTime() - Date.parse(status.failingSince) >= failingMs) {
    reasons.push(`the lake export has failed ${status.consecutiveFailures} times since ${status.failingSince} (${status.pendingSegments} segments wait beside the store): ${status.lastError}`);
  }
  return { ...readiness, ready: reasons.length === 0, reasons, lake: status };
}

/** The lake's status as /healthz and /readyz show it: its error without file paths, the lake without a SAS. */
export function publicLakeStatus(lake: LakeStatus): LakeStatus {
  return { ...lake, lake: lake.lake.split('?')[0]!, lastError: lake.lastError === null ? null : withoutPaths(lake.lastError) };
}
