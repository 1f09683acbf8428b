/**
 * Stands in for the DuckDB store in source tests: a batch's rows and its position are applied together
 * (as one transaction would), and a commit can be made slow or made to fail.
 */
import { originPosition, originSource } from '../../../src/contracts/record-origin.js';
import type { HubEvent, SourceBatch } from '../../../src/sources/source-batch.js';

export interface StoredRow {
  sourceKey: string;
  source: string;
  partitionId: string;
  sequenceNumber: number;
  body: unknown;
  /** A routed event's origin, `<source>@<position>` (stored under it, as the DuckDB store does). */
  origin?: string;
}

export class MemoryStore {
  readonly positions = new Map<string, string>();
  readonly rows: StoredRow[] = [];
  batches = 0;
  /** Milliseconds each commit takes. */
  commitDelayMs = 0;
  /** When set, the next commit throws (and commits nothing). */
  failNextCommit = false;

  readonly readPosition = async (sourceKey: string): Promise<string | null> => this.positions.get(sourceKey) ?? null;

  /** Told of each batch as the pipeline's seal would be, before the batch's `beforeCommit` and its commit. */
  observe?: (batch: SourceBatch<HubEvent>) => void;

  readonly onBatch = async (batch: SourceBatch<HubEvent>): Promise<void> => {
    this.observe?.(batch);
    await batch.beforeCommit?.();
    if (this.commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.commitDelayMs));
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('simulated commit failure');
    }
    // Event Hubs batches always name their stream.
    const sourceKey = batch.sourceKey!;
    for (const item of batch.items) {
      const origin = item.origin ? { origin: `${originSource(item.origin)}@${originPosition(item.origin)}` } : {};
      this.rows.push({ sourceKey, source: batch.source, partitionId: item.partitionId, sequenceNumber: item.sequenceNumber, body: item.body, ...origin });
    }
    this.positions.set(sourceKey, batch.position);
    for (const mark of batch.marks ?? []) this.positions.set(mark.sourceKey, mark.position);
    this.batches++;
  };

  /** `partition/sequence` → how many times it was stored. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const row of this.rows) {
      const key = `${row.partitionId}/${row.sequenceNumber}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
}

/** Every `partition/sequence` of `perPartition` events on partitions 0..partitions-1. */
export function expectedKeys(perPartition: readonly number[]): string[] {
  return perPartition.flatMap((count, partition) => Array.from({ length: count }, (_, seq) => `${partition}/${seq}`)).sort();
}

/** Asserts helper: the keys stored more than once, and the expected keys never stored. */
export function duplicatesAndMissing(counts: Map<string, number>, expected: readonly string[]): { duplicates: string[]; missing: string[] } {
  return {
    duplicates: [...counts].filter(([, n]) => n > 1).map(([key]) => key),
    missing: expected.filter((key) => !counts.has(key)),
  };
}
