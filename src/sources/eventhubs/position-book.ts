/**
 * The start position of every partition, kept current: filled from the store's committed positions
 * before reading, and moved after each commit. The SDK reads this map (its `startPosition` option)
 * each time it (re)starts a partition, so a restarted partition resumes strictly after the last
 * committed sequence number, and a partition never seen (one added to the hub after start too) starts at
 * the configured default: the SDK's own default for a partition missing from the map is `latest`.
 */
import { earliestEventPosition, latestEventPosition, type EventPosition } from '@azure/event-hubs';

/** earliest | latest | an ISO time → the SDK position for a partition never seen. */
export function defaultStartPosition(setting: string): EventPosition {
  if (setting === 'earliest') return earliestEventPosition;
  if (setting === 'latest') return latestEventPosition;
  return { enqueuedOn: new Date(setting) };
}

/** Parses a committed position (a sequence number as text); null when absent or not a number. */
export function parseSequencePosition(position: string | null): number | null {
  if (position === null || !/^\d+$/.test(position.trim())) return null;
  return Number(position);
}

export class PositionBook {
  /**
   * Handed to the SDK as `startPosition`; mutated in place so the SDK sees every move. A partition id it
   * has no entry for reads as the default (only ids: the SDK also probes the object for `offset` and the like).
   */
  readonly positions: Record<string, EventPosition>;
  private readonly committed = new Map<string, number>();

  constructor(private readonly fallback: EventPosition) {
    this.positions = new Proxy({} as Record<string, EventPosition>, {
      get: (target, key) => (typeof key === 'string' && /^\d+$/.test(key) ? (target[key] ?? fallback) : Reflect.get(target, key)),
    });
  }

  /** Records a committed sequence number; positions only move forward. */
  commit(partitionId: string, sequenceNumber: number): void {
    const known = this.committed.get(partitionId);
    if (known !== undefined && known >= sequenceNumber) return;
    this.committed.set(partitionId, sequenceNumber);
    this.positions[partitionId] = { sequenceNumber, isInclusive: false };
  }

  /** Makes sure a partition has an entry (the default start) without moving a known one. */
  know(partitionId: string): void {
    if (!(partitionId in this.positions)) this.positions[partitionId] = this.fallback;
  }

  /**
   * Forgets the committed position of a partition that no longer has it (the hub was deleted and created
   * again): it restarts at the earliest event. The only move backwards.
   */
  restart(partitionId: string, from: EventPosition): void {
    this.committed.delete(partitionId);
    this.positions[partitionId] = from;
  }

  lastCommitted(partitionId: string): number | null {
    return this.committed.get(partitionId) ?? null;
  }
}
