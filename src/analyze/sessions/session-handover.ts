/**
 * The sessions a hub's leader hands to the instance that takes the hub over (docs/fleet.md): what it knows of
 * each session it still holds (user, database, client, application, start, end), so that AUDIT lines of a
 * session whose connection lines the old leader stored are attributed in the new leader's store too.
 * Encoded as gzipped JSON; every text passes the store's redactor first, as it would on its way into a row.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { redactStoredText } from '../../redact/index.js';
import type { SessionState } from './session-tracker.js';

const FORMAT = 'auditduck.sessions.v1';

/** One row per session, its values in this order: arrays, not objects, halve what is encoded before every commit. */
const FIELDS = [
  'server', 'sessionId', 'pid', 'startedAt', 'endedAt', 'userName', 'databaseName', 'applicationName', 'clientAddr',
  'clientPort', 'authMethod', 'authIdentity', 'ssl', 'sslProtocol', 'sslCipher', 'replication',
] as const satisfies readonly (keyof SessionState)[];
type Field = (typeof FIELDS)[number];
const TEXT: ReadonlySet<Field> = new Set(['userName', 'databaseName', 'applicationName', 'clientAddr', 'authMethod', 'authIdentity', 'sslProtocol', 'sslCipher']);
const TIME: ReadonlySet<Field> = new Set(['startedAt', 'endedAt']);
const NUMBER: ReadonlySet<Field> = new Set(['pid', 'clientPort']);
const FLAG: ReadonlySet<Field> = new Set(['ssl', 'replication']);

/**
 * `parts`: what else the leader hands over with its sessions (open transactions, the detection context), by
 * name, as JSON; a reader that knows none of them still reads the sessions.
 */
export function encodeSessionHandover(sessions: readonly SessionState[], parts: Record<string, unknown> = {}): Buffer {
  const rows = sessions.map((s) =>
    FIELDS.map((field) => {
      const value = s[field];
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      return TEXT.has(field) ? redactStoredText(value as string) : value;
    }),
  );
  // Level 1: this runs before every commit that changed a session; level 6 costs three times as much for 10% less.
  return gzipSync(JSON.stringify({ format: FORMAT, fields: FIELDS, sessions: rows, parts }), { level: 1 });
}

/** Throws a clear error on a body that is not a handover of this format (nothing is adopted then). */
export function decodeSessionHandover(body: Uint8Array): SessionState[] {
  return decodeHandover(body).sessions;
}

/** The sessions and the other parts of a handover (an older leader's has none); throws as `decodeSessionHandover`. */
export function decodeHandover(body: Uint8Array): { sessions: SessionState[]; parts: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(body).toString('utf8'));
  } catch (error) {
    throw new Error(`the session handover is not gzipped JSON: ${(error as Error).message}`);
  }
  const doc = parsed as { format?: unknown; fields?: unknown; sessions?: unknown; parts?: unknown };
  if (doc?.format !== FORMAT || !Array.isArray(doc.sessions) || JSON.stringify(doc.fields) !== JSON.stringify(FIELDS)) {
    throw new Error(`the session handover is not of format ${FORMAT}`);
  }
  const parts = doc.parts !== null && typeof doc.parts === 'object' && !Array.isArray(doc.parts) ? (doc.parts as Record<string, unknown>) : {};
  return { sessions: doc.sessions.map((raw: unknown, i: number) => toState(raw, i)), parts };
}

function toState(raw: unknown, index: number): SessionState {
  const bad = (field: string): never => {
    throw new Error(`the session handover's session ${index} has no valid ${field}`);
  };
  if (!Array.isArray(raw) || raw.length !== FIELDS.length) bad('row');
  const state = {} as Record<Field, unknown>;
  FIELDS.forEach((field, i) => {
    const value: unknown = (raw as unknown[])[i];
    if (value === null) {
      state[field] = null;
    } else if (TIME.has(field)) {
      const date = new Date(typeof value === 'string' ? value : NaN);
      state[field] = Number.isNaN(date.getTime()) ? bad(field) : date;
    } else if (NUMBER.has(field)) {
      state[field] = Number.isSafeInteger(value) ? value : bad(field);
    } else if (FLAG.has(field)) {
      state[field] = typeof value === 'boolean' ? value : bad(field);
    } else {
      state[field] = typeof value === 'string' ? value : bad(field);
    }
  });
  if (state.server === null) bad('server');
  if (state.sessionId === null) bad('sessionId');
  return state as unknown as SessionState;
}
