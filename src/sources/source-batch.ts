/**
 * What every source hands to the pipeline: a batch of items plus the position to resume after it.
 * The store commits the batch's rows and `position` under `sourceKey` in one transaction, so a
 * restarted source that asks for its last committed position never adds a row twice.
 */
export interface SourceBatch<T> {
  /** Stable identity of the stream for resuming: `file:<fingerprint>`, `eventhubs:<namespace>/<hub>/<consumer group>/<partition>`. */
  sourceKey: string;
  /** Human label stored with rows and dead letters: a path, `stdin`, `eventhubs:<hub>/<partition>`. */
  source: string;
  /** Opaque to the store; the source knows how to resume from it (a byte offset, a sequence number). */
  position: string;
  items: T[];
}

/** One Event Hubs event as the consumer receives it; `body` is parsed JSON, bytes or a string. */
export interface HubEvent {
  body: unknown;
  partitionId: string;
  sequenceNumber: number;
  enqueuedTimeUtc: Date;
}

/** Reads the last committed position of a stream; null when it was never seen. */
export type PositionReader = (sourceKey: string) => Promise<string | null>;
