/**
 * Where a record republished by `auditduck route` came from: the hub, partition and sequence number of the
 * event that carried it, and its index in that event's `records` array. Route writes it as application
 * properties of the republished event; `run` on the keyed hub reads it back, stores the record under the
 * origin's `(source, position)` (as if it had read the source hub itself) and drops an origin it already holds.
 */

export interface RecordOrigin {
  /** The source hub's name (row sources are `eventhubs:<hub>/<partition>`). */
  hub: string;
  partitionId: string;
  sequenceNumber: number;
  /** The record's index in the body's `records`; null when the whole body was forwarded (not an envelope). */
  index: number | null;
}

/** The application property names (lowercase: AMQP keeps them as written, the portal shows them as they are). */
export const ORIGIN_PROPERTY = {
  hub: 'auditduck-origin-hub',
  partition: 'auditduck-origin-partition',
  sequence: 'auditduck-origin-sequence',
  index: 'auditduck-origin-index',
} as const;

export function originProperties(origin: RecordOrigin): Record<string, string | number> {
  const properties: Record<string, string | number> = {
    [ORIGIN_PROPERTY.hub]: origin.hub,
    [ORIGIN_PROPERTY.partition]: origin.partitionId,
    [ORIGIN_PROPERTY.sequence]: origin.sequenceNumber,
  };
  if (origin.index !== null) properties[ORIGIN_PROPERTY.index] = origin.index;
  return properties;
}

/** The origin of an event's application properties; null when the event was not republished by route. */
export function parseOrigin(properties: Readonly<Record<string, unknown>> | undefined): RecordOrigin | null {
  if (!properties) return null;
  const hub = properties[ORIGIN_PROPERTY.hub];
  const partitionId = properties[ORIGIN_PROPERTY.partition];
  const sequenceNumber = wholeNumber(properties[ORIGIN_PROPERTY.sequence]);
  if (typeof hub !== 'string' || hub === '' || typeof partitionId !== 'string' || sequenceNumber === null) return null;
  const rawIndex = properties[ORIGIN_PROPERTY.index];
  const index = rawIndex === undefined || rawIndex === null ? null : wholeNumber(rawIndex);
  if (rawIndex !== undefined && rawIndex !== null && index === null) return null;
  return { hub, partitionId, sequenceNumber, index };
}

/** The `source` of the origin's rows: what reading the source hub directly would store. */
export function originSource(origin: RecordOrigin): string {
  return `eventhubs:${origin.hub}/${origin.partitionId}`;
}

/** The `position` of the origin's record: `<sequence number>#<index>`, or the sequence number of a whole body. */
export function originPosition(origin: RecordOrigin): string {
  return origin.index === null ? String(origin.sequenceNumber) : `${origin.sequenceNumber}#${origin.index}`;
}

/** Orders origins of one source partition: by sequence number, then index (a whole body before its records). */
export function compareOrigins(a: Pick<RecordOrigin, 'sequenceNumber' | 'index'>, b: Pick<RecordOrigin, 'sequenceNumber' | 'index'>): number {
  return a.sequenceNumber - b.sequenceNumber || (a.index ?? -1) - (b.index ?? -1);
}

/** A position written by originPosition back to sequence number and index; null when it is not one. */
export function parseOriginPosition(position: string | null): Pick<RecordOrigin, 'sequenceNumber' | 'index'> | null {
  const match = position === null ? null : /^(\d+)(?:#(\d+))?$/.exec(position);
  if (!match) return null;
  return { sequenceNumber: Number(match[1]), index: match[2] === undefined ? null : Number(match[2]) };
}

function wholeNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value === 'bigint') return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
  if (typeof value === 'string' && /^\d+$/.test(value)) return wholeNumber(Number(value));
  // rhea may hand a long over as a Buffer-backed Int64 wrapper with valueOf().
  if (typeof value === 'object' && value !== null && typeof (value as { valueOf(): unknown }).valueOf === 'function') {
    const inner = (value as { valueOf(): unknown }).valueOf();
    return inner === value ? null : wholeNumber(inner);
  }
  return null;
}
