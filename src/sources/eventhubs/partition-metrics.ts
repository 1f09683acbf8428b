/** Per-partition counters of the Event Hubs source, in memory, for /metrics and the logs. */
export interface PartitionMetrics {
  partitionId: string;
  /** `eventhubs:<hub>/<partition>`: the label of the partition's rows, metrics and health. */
  source?: string;
  events: number;
  batches: number;
  /** The last sequence number handed to onBatch and committed; null before the first batch. */
  lastSequenceNumber: number | null;
  /** The last sequence number enqueued in the partition, as the service last reported it. */
  lastEnqueuedSequenceNumber: number | null;
  /** Events enqueued but not yet committed; null until both ends are known. */
  lag: number | null;
  lastBatchAt: string | null;
}

export class PartitionMetricsBook {
  private readonly partitions = new Map<string, PartitionMetrics>();

  constructor(private readonly sourceOf?: (partitionId: string) => string) {}

  private entry(partitionId: string): PartitionMetrics {
    let entry = this.partitions.get(partitionId);
    if (!entry) {
      entry = { partitionId, ...(this.sourceOf ? { source: this.sourceOf(partitionId) } : {}), events: 0, batches: 0, lastSequenceNumber: null, lastEnqueuedSequenceNumber: null, lag: null, lastBatchAt: null };
      this.partitions.set(partitionId, entry);
    }
    return entry;
  }

  recordBatch(partitionId: string, events: number, lastSequenceNumber: number): PartitionMetrics {
    const entry = this.entry(partitionId);
    entry.events += events;
    entry.batches += 1;
    entry.lastSequenceNumber = lastSequenceNumber;
    entry.lastBatchAt = new Date().toISOString();
    return this.updateLag(entry);
  }

  /** The resume point counts as processed, so a caught-up partition shows lag 0 right after start. */
  recordResumePoint(partitionId: string, committed: number | null): void {
    const entry = this.entry(partitionId);
    if (entry.lastSequenceNumber === null && committed !== null) entry.lastSequenceNumber = committed;
    this.updateLag(entry);
  }

  recordLastEnqueued(partitionId: string, lastEnqueuedSequenceNumber: number | undefined): PartitionMetrics {
    const entry = this.entry(partitionId);
    if (lastEnqueuedSequenceNumber !== undefined) entry.lastEnqueuedSequenceNumber = lastEnqueuedSequenceNumber;
    return this.updateLag(entry);
  }

  snapshot(): PartitionMetrics[] {
    return [...this.partitions.values()].map((entry) => ({ ...entry })).sort((a, b) => Number(a.partitionId) - Number(b.partitionId));
  }

  private updateLag(entry: PartitionMetrics): PartitionMetrics {
    const { lastEnqueuedSequenceNumber: end, lastSequenceNumber: done } = entry;
    if (end !== null) entry.lag = Math.max(0, end - (done ?? -1));
    return entry;
  }
}
