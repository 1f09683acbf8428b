/**
 * `run` on a keyed hub (written by `auditduck route`): drops a routed record whose origin this store holds
 * already — republished by a route instance that died before its checkpoint, or read again after this
 * instance was killed between its commit and its checkpoint.
 *
 * The store keeps one mark per (origin partition, partition key): the last origin stored, as a position
 * (`routed:<origin source>|<partition key>` → `<sequence>#<index>`) committed in the same transaction as the
 * rows. One mark suffices because route publishes each (source partition, server) in origin order and
 * republishes only from a checkpoint it wrote after everything before it was acknowledged: in the keyed
 * partition, a record's copy always comes after the record itself, so anything at or before the mark
 * is a copy of something stored (here, or by the instance that read that part of the keyed partition).
 * The marks are cached: only this process writes its store's marks, and one key lives on one keyed
 * partition, which is read one batch at a time. Under balanced ownership the instances that read a keyed
 * partition before this one stored part of it: their marks come with the partition (`adopt`, from the
 * partition register), so a copy whose original another store holds is dropped too.
 */
import { compareOrigins, originPosition, originSource, parseOriginPosition, type RecordOrigin } from '../../contracts/record-origin.js';
import type { HubEvent, OriginMark, PositionReader } from '../source-batch.js';

type Mark = Pick<RecordOrigin, 'sequenceNumber' | 'index'>;

export function originMarkKey(origin: RecordOrigin, partitionKey: string | undefined): string {
  return `routed:${originSource(origin)}|${partitionKey ?? ''}`;
}

export interface AdmittedEvents {
  events: HubEvent[];
  /** To commit with the batch: the new mark of each key it moves. */
  marks: OriginMark[];
  /** Routed events whose origin was stored already. */
  duplicates: number;
}

export class RoutedOrigins {
  private readonly marks = new Map<string, Mark | null>();

  constructor(private readonly readPosition: PositionReader) {}

  /** The events of a batch this store does not hold yet; events not routed pass as they are. */
  async admit(events: readonly HubEvent[]): Promise<AdmittedEvents> {
    const admitted: HubEvent[] = [];
    const moved = new Map<string, OriginMark & { mark: Mark }>();
    let duplicates = 0;
    for (const event of events) {
      if (!event.origin) {
        admitted.push(event);
        continue;
      }
      const key = originMarkKey(event.origin, event.partitionKey);
      const last = moved.get(key)?.mark ?? (await this.stored(key));
      if (last !== null && compareOrigins(event.origin, last) <= 0) {
        duplicates++;
        continue;
      }
      admitted.push(event);
      moved.set(key, { sourceKey: key, source: originSource(event.origin), position: originPosition(event.origin), mark: event.origin });
    }
    return { events: admitted, marks: [...moved.values()].map(({ sourceKey, source, position }) => ({ sourceKey, source, position })), duplicates };
  }

  /**
   * Marks of origins stored by other instances from the partition this one now reads (the partition register's):
   * each replaces this store's mark where it is later.
   */
  async adopt(marks: Readonly<Record<string, string>>): Promise<void> {
    for (const [key, position] of Object.entries(marks)) {
      const fleet = parseOriginPosition(position);
      const own = await this.stored(key);
      if (fleet !== null && (own === null || compareOrigins(fleet, own) > 0)) this.marks.set(key, fleet);
    }
  }

  /** The batch's marks are committed: they are the store's now. */
  committed(marks: readonly OriginMark[]): void {
    for (const mark of marks) this.marks.set(mark.sourceKey, parseOriginPosition(mark.position));
  }

  private async stored(key: string): Promise<Mark | null> {
    if (!this.marks.has(key)) this.marks.set(key, parseOriginPosition(await this.readPosition(key)));
    return this.marks.get(key)!;
  }
}
