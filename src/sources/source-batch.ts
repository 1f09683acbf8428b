/**
 * What every source yields to the pipeline's driver: a batch of items plus the position to resume after it.
 * A source is an `AsyncIterable` of these (`BatchSource`); the driver pulls, decodes, stores and commits
 * each batch's rows with `position` under `sourceKey` in one transaction, so a restarted source that asks
 * for its last committed position never adds a row twice.
 * Input contract for the driver: within one `sourceKey`, batches come in order and the next is yielded only
 * when the source may read on; batches of different streams (partitions) may interleave.
 */
import type { RecordOrigin } from '../contracts/record-origin.js';

export interface SourceBatch<T> {
  /**
   * Stable identity of the stream for resuming: `file:<fingerprint>`, `eventhubs:<namespace>/<hub>/<consumer group>/<partition>`.
   * null for a stream that cannot be resumed (stdin without an id, a partial Log Analytics window): rows are stored, no position is kept.
   */
  sourceKey: string | null;
  /** Human label stored with rows and dead letters: a path, `stdin`, `eventhubs:<hub>/<partition>`. */
  source: string;
  /** Opaque to the store; the source knows how to resume from it (a byte offset, a sequence number). */
  position: string;
  items: T[];
  /**
   * Told after the batch was prepared (what it says of sessions is known), before its transaction commits, once
   * per attempt: a fleet leader hands its sessions over here, so no committed batch is missing from them.
   */
  beforeCommit?(): Promise<void>;
  /**
   * More positions to commit in the same transaction: the marks of the routed origins the batch stores
   * (`run` on a keyed hub, sources/eventhubs/routed-origins.ts).
   */
  marks?: readonly OriginMark[];
  /**
   * Told inside the batch's transaction, after detection, before COMMIT: a fleet leader hands over again what
   * detection learnt in it (alerts raised), which `beforeCommit` could not know yet.
   */
  inTransaction?(): Promise<void>;
  /** Told once the batch and its position are committed (Event Hubs checkpoints here). */
  committed?(): Promise<void> | void;
  /** Told when the driver gives the batch up uncommitted (stopping): the source reads it again after a restart. */
  abandoned?(reason: unknown): void;
}

export type BatchSource<B extends SourceBatch<unknown>> = AsyncIterable<B>;

/** One Event Hubs event as the consumer receives it; `body` is parsed JSON, bytes or a string. */
export interface HubEvent {
  body: unknown;
  partitionId: string;
  sequenceNumber: number;
  enqueuedTimeUtc: Date;
  /** Republished by `auditduck route`: where its record came from; its rows are stored under the origin. */
  origin?: RecordOrigin;
  /** The key it was published with (route: the record's server). */
  partitionKey?: string;
}

/** A position committed beside the batch's own (same shape as the store's positions). */
export interface OriginMark {
  sourceKey: string;
  source: string;
  position: string;
}

/** Reads the last committed position of a stream; null when it was never seen. */
export type PositionReader = (sourceKey: string) => Promise<string | null>;
