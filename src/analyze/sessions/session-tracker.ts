/**
 * Builds each session from its lines (received → authenticated → authorized → disconnected) and
 * attributes audit entries and auth failures to it. Lines of one session may arrive in any order and
 * from several sources (Event Hubs spreads a server's records over partitions), so what is not known
 * yet stays null here and the store fills it in when the session's lines arrive (late attribution).
 */
import type { ParsedEntry, SessionFact } from '../../parse/parsed-entry.js';

export interface SessionState {
  server: string;
  sessionId: string;
  pid: number | null;
  startedAt: Date | null;
  endedAt: Date | null;
  userName: string | null;
  databaseName: string | null;
  applicationName: string | null;
  clientAddr: string | null;
  clientPort: number | null;
  authMethod: string | null;
  authIdentity: string | null;
  ssl: boolean | null;
  sslProtocol: string | null;
  sslCipher: string | null;
  replication: boolean | null;
}

export interface Attribution {
  userName: string | null;
  databaseName: string | null;
  clientAddr: string | null;
  applicationName: string | null;
}

/** Sessions kept in memory; older ones live on in the store, where late attribution still finds them. */
const MAX_SESSIONS = 100_000;

export class SessionTracker {
  private readonly sessions = new Map<string, SessionState>();
  private changed = new Set<SessionState>();

  /** Merges a session line into its session. */
  observe(entry: Extract<ParsedEntry, { kind: 'session' }>): void {
    const { record, session: fact } = entry;
    if (record.sessionId === null) return;
    const state = this.getOrCreate(record.server, record.sessionId, record.pid);
    mergeFact(state, fact, record.loggedAt);
    // A prefix with %u/%d/%h/%a is as good as the connection lines.
    state.userName ??= record.userName;
    state.databaseName ??= record.databaseName;
    state.clientAddr ??= record.clientAddr;
    state.applicationName ??= record.applicationName;
    this.changed.add(state);
  }

  /** What is known now about the session of a record; the record's own prefix fields win. */
  attribute(record: { server: string; sessionId: string | null; userName: string | null; databaseName: string | null; clientAddr: string | null; applicationName: string | null }): Attribution {
    const state = record.sessionId === null ? undefined : this.sessions.get(key(record.server, record.sessionId));
    return {
      userName: record.userName ?? state?.userName ?? null,
      databaseName: record.databaseName ?? state?.databaseName ?? null,
      clientAddr: record.clientAddr ?? state?.clientAddr ?? null,
      applicationName: record.applicationName ?? state?.applicationName ?? null,
    };
  }

  /** Sessions changed since the last call: what the store must upsert with this batch. */
  takeChanged(): SessionState[] {
    const out = [...this.changed];
    this.changed = new Set();
    return out;
  }

  private getOrCreate(server: string, sessionId: string, pid: number | null): SessionState {
    const k = key(server, sessionId);
    let state = this.sessions.get(k);
    if (!state) {
      const fromId = sessionIdParts(sessionId);
      state = {
        server,
        sessionId,
        pid: pid ?? fromId?.pid ?? null,
        startedAt: fromId?.startedAt ?? null,
        endedAt: null,
        userName: null,
        databaseName: null,
        applicationName: null,
        clientAddr: null,
        clientPort: null,
        authMethod: null,
        authIdentity: null,
        ssl: null,
        sslProtocol: null,
        sslCipher: null,
        replication: null,
      };
      this.sessions.set(k, state);
      if (this.sessions.size > MAX_SESSIONS) this.evictOldest();
    }
    return state;
  }

  private evictOldest(): void {
    const drop = this.sessions.size - MAX_SESSIONS;
    let dropped = 0;
    for (const k of this.sessions.keys()) {
      if (dropped++ >= drop) break;
      this.sessions.delete(k);
    }
  }
}

function mergeFact(state: SessionState, fact: SessionFact, at: Date): void {
  switch (fact.event) {
    case 'received':
      state.clientAddr = fact.clientAddr ?? state.clientAddr;
      state.clientPort = fact.clientPort ?? state.clientPort;
      state.startedAt = at; // milliseconds, where the session id has whole seconds
      return;
    case 'authenticated':
      state.authIdentity = fact.authIdentity ?? state.authIdentity;
      state.authMethod = fact.authMethod ?? state.authMethod;
      return;
    case 'authorized':
      state.userName = fact.userName ?? state.userName;
      state.databaseName = fact.databaseName ?? state.databaseName;
      state.applicationName = fact.applicationName ?? state.applicationName;
      state.ssl = fact.ssl ?? state.ssl;
      state.sslProtocol = fact.sslProtocol ?? state.sslProtocol;
      state.sslCipher = fact.sslCipher ?? state.sslCipher;
      state.replication = fact.replication ?? state.replication;
      return;
    case 'disconnected':
      state.endedAt = at;
      state.userName ??= fact.userName ?? null;
      state.databaseName ??= fact.databaseName ?? null;
      state.clientAddr ??= fact.clientAddr ?? null;
      state.clientPort ??= fact.clientPort ?? null;
      if (fact.sessionMillis !== undefined) state.startedAt ??= new Date(at.getTime() - fact.sessionMillis);
      return;
    default:
      fact.event satisfies never;
  }
}

/** `%c` is hex(backend start, epoch seconds) . hex(pid). */
export function sessionIdParts(sessionId: string): { startedAt: Date; pid: number } | null {
  const m = /^([0-9a-f]{1,16})\.([0-9a-f]{1,8})$/.exec(sessionId);
  if (!m) return null;
  return { startedAt: new Date(parseInt(m[1]!, 16) * 1000), pid: parseInt(m[2]!, 16) };
}

function key(server: string, sessionId: string): string {
  return `${server}\u0000${sessionId}`;
}
