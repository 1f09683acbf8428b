import type { Message } from 'rhea';
import type { EventCoordinates } from './selector-filter.js';

/** One event as the broker keeps it: the producer's message plus what the service stamps on it. */
export interface StoredEvent extends EventCoordinates {
  message: Message;
}

/**
 * The append-only log of one partition. Sequence numbers start at 0 like the real service; offsets
 * grow by the encoded size of each event, so they are increasing but not dense, as in Event Hubs.
 */
export class PartitionLog {
  readonly events: StoredEvent[] = [];
  /** The first sequence number still retained: earlier events expired (retention) and are never delivered. */
  begin = 0;
  private nextOffset = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly partitionId: string) {}

  append(message: Message, encodedSize: number): StoredEvent {
    const event: StoredEvent = {
      message,
      sequenceNumber: this.events.length,
      offset: this.nextOffset,
      // Enqueued times never go backwards, even within one millisecond.
      enqueuedTime: Math.max(Date.now(), this.events.at(-1)?.enqueuedTime ?? 0),
    };
    this.nextOffset += Math.max(1, encodedSize);
    this.events.push(event);
    for (const listener of this.listeners) listener();
    return event;
  }

  /** Retention ran out for every event before `sequenceNumber`. */
  expireBefore(sequenceNumber: number): void {
    this.begin = Math.max(this.begin, Math.min(sequenceNumber, this.events.length));
  }

  /** The hub was deleted and created again: empty, sequence numbers from 0. */
  clear(): void {
    this.events.length = 0;
    this.nextOffset = 0;
    this.begin = 0;
  }

  /** Called after every append; returns the function that stops listening. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The partition runtime properties the `$management` node answers with. */
  properties(hubName: string): Record<string, unknown> {
    const last = this.events.at(-1);
    return {
      name: hubName,
      partition: this.partitionId,
      begin_sequence_number: this.begin,
      last_enqueued_sequence_number: last?.sequenceNumber ?? -1,
      last_enqueued_offset: last ? String(last.offset) : '-1',
      last_enqueued_time_utc: new Date(last?.enqueuedTime ?? 0),
      is_partition_empty: last === undefined || this.begin > last.sequenceNumber,
    };
  }
}
