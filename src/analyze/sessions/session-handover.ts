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

type TextField = 'userName' | 'databaseName' | 'applicationName' | 'clientAddr' | 'authMethod' | 'authIdentity' | 'sslProtocol' | 'sslCipher';
const TEXT_FIELDS: readonly TextField[] = ['userName', 'databaseName', 'applicationName', 'clientAddr', 'authMethod', 'authIdentity', 'sslProtocol', 'sslCipher'];

interface HandedSession {
  server: string;
  sessionId: string;
  pid: number | null;
  startedAt: string | null;
  endedAt: string | null;
  clientPort: number | null;
  ssl: boolean | null;
  replication: boolean | null;
  userName: string | null;
  databaseName: string | null;
  applicationName: string | null;
  clientAddr: string | null;
  authMethod: string | null;
  authIdentity: string | null;
  sslProtocol: string | null;
  sslCipher: string | null;
}

export function encodeSessionHandover(sessions: readonly SessionState[]): Buffer {
  const handed = sessions.map((s): HandedSession => {
    const out: HandedSession = {
      server: s.server,
      sessionId: s.sessionId,
      pid: s.pid,
      startedAt: s.startedAt?.toISOString() ?? null,
      endedAt: s.endedAt?.toISOString() ?? null,
      clientPort: s.clientPort,
      ssl: s.ssl,
      replication: s.replication,
      userName: null,
      databaseName: null,
      applicationName: null,
      clientAddr: null,
      authMethod: null,
      authIdentity: null,
      sslProtocol: null,
      sslCipher: null,
    };
    for (const field of TEXT_FIELDS) out[field] = s[field] === null ? null : redactStoredText(s[field]);
    return out;
  });
  return gzipSync(JSON.stringify({ format: FORMAT, sessions: handed }));
}

/** Throws a clear error on a body that is not a handover of this format (nothing is adopted then). */
export function decodeSessionHandover(body: Uint8Array): SessionState[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(body).toString('utf8'));
  } catch (error) {
    throw new Error(`the session handover is not gzipped JSON: ${(error as Error).message}`);
  }
  const doc = parsed as { format?: unknown; sessions?: unknown };
  if (doc?.format !== FORMAT || !Array.isArray(doc.sessions)) throw new Error(`the session handover is not of format ${FORMAT}`);
  return doc.sessions.map((raw: unknown, i: number) => toState(raw, i));
}

function toState(raw: unknown, index: number): SessionState {
  const s = raw as Partial<Record<keyof HandedSession, unknown>>;
  const bad = (field: string): never => {
    throw new Error(`the session handover's session ${index} has no valid ${field}`);
  };
  const text = (field: keyof HandedSession): string | null => (s[field] === null || s[field] === undefined ? null : typeof s[field] === 'string' ? s[field] : bad(field));
  const number = (field: keyof HandedSession): number | null => (s[field] === null || s[field] === undefined ? null : Number.isSafeInteger(s[field]) ? (s[field] as number) : bad(field));
  const flag = (field: keyof HandedSession): boolean | null => (s[field] === null || s[field] === undefined ? null : typeof s[field] === 'boolean' ? s[field] : bad(field));
  const time = (field: keyof HandedSession): Date | null => {
    const value = text(field);
    if (value === null) return null;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? bad(field) : date;
  };
  return {
    server: text('server') ?? bad('server'),
    sessionId: text('sessionId') ?? bad('sessionId'),
    pid: number('pid'),
    startedAt: time('startedAt'),
    endedAt: time('endedAt'),
    userName: text('userName'),
    databaseName: text('databaseName'),
    applicationName: text('applicationName'),
    clientAddr: text('clientAddr'),
    clientPort: number('clientPort'),
    authMethod: text('authMethod'),
    authIdentity: text('authIdentity'),
    ssl: flag('ssl'),
    sslProtocol: text('sslProtocol'),
    sslCipher: text('sslCipher'),
    replication: flag('replication'),
  };
}
