/**
 * One event of the source hub → the events `route` publishes into the keyed hub: one per element of the
 * Azure envelope's `records` (as an envelope of one, `{"records":[record]}`, so that every reader of Azure's
 * format reads it), keyed by the record's server, with its origin as application properties.
 * A body that is not an envelope is forwarded whole, under FALLBACK_PARTITION_KEY; so is a record that names
 * no server: `run` then stores it as a dead letter with the reason, under its origin, as it would have
 * from the source hub. Nothing is dropped here.
 */
import { originProperties, type RecordOrigin } from '../contracts/record-origin.js';
import { parseResourceId, postgresServerOf, serverName } from '../decode/azure/index.js';

/** The key of what names no server: one stable key, so such events stay in order on one partition. */
export const FALLBACK_PARTITION_KEY = 'auditduck-route:no-server';

export interface RoutedEvent {
  partitionKey: string;
  /** The bytes of `{"records":[record]}` (JSON, as diagnostic settings send), or the original body. */
  body: unknown;
  properties: Record<string, string | number>;
  origin: RecordOrigin;
}

export interface SourceEvent {
  body: unknown;
  sequenceNumber: number;
}

/** The routed events of one source event, in the order of its records. */
export function routeEvent(event: SourceEvent, from: { hub: string; partitionId: string }): RoutedEvent[] {
  const envelope = asEnvelope(event.body);
  const base = { hub: from.hub, partitionId: from.partitionId, sequenceNumber: event.sequenceNumber };
  if (envelope === null) {
    const origin: RecordOrigin = { ...base, index: null };
    return [{ partitionKey: FALLBACK_PARTITION_KEY, body: event.body, properties: originProperties(origin), origin }];
  }
  return envelope.records.map((record, index) => {
    const origin: RecordOrigin = { ...base, index };
    return {
      partitionKey: serverKey(record) ?? FALLBACK_PARTITION_KEY,
      body: Buffer.from(JSON.stringify({ records: [record] }), 'utf8'),
      properties: originProperties(origin),
      origin,
    };
  });
}

/**
 * The record's server, lowercase, as the decoder names it (`LogicalServerName`, else the resource id): for a
 * record about something under a server (an Activity Log change to a firewall rule), the server it is under.
 */
export function serverKey(record: unknown): string | null {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return null;
  const fields = record as Record<string, unknown>;
  const resourceId = typeof fields.resourceId === 'string' ? fields.resourceId : typeof fields.ResourceId === 'string' ? fields.ResourceId : null;
  if (typeof fields.LogicalServerName !== 'string' && resourceId !== null) {
    const server = postgresServerOf(parseResourceId(resourceId));
    if (server !== null) return server;
  }
  return serverName(fields);
}

function asEnvelope(body: unknown): { records: unknown[] } | null {
  let value = body;
  if (value instanceof Uint8Array) value = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const records = (value as { records?: unknown }).records;
  return Array.isArray(records) ? { records } : null;
}
