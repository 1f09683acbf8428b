/**
 * Builds each session from its lines (received → authenticated → authorized → disconnected) and
 * attributes audit entries and auth failures to it. Lines of one session may arrive in any order and
 * from several sources (Event Hubs spreads a server's records over partitions), so what is not known
 * yet stays null here and the store fills it in when the session's lines arrive (late attribution).
 */
import type { ParsedEntry, SessionFact } from '../../parse/parsed-entry.js';
import { sessionKey } from '../../contracts/session-key.js';

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
/**
 * Ended sessions kept in memory, for lines that arrive after the disconnection (another partition). Most
 * sessions end; keeping them all up to MAX_SESSIONS would make the heap grow with the length of the stream.
 */
const MAX_ENDED_SESSIONS = 10_000;

/**
 * What a leader hands over at most (fleet takeover): the newest open sessions and the newest ended ones (for
 * lines of theirs still to come from other partitions, and for rows the next leader's store holds unattributed).
 */
export const HANDOVER_LIMITS = { open: 10_000, ended: 1_000 };

export class SessionTracker {
  private readonly sessions = new Map<string, SessionState>();
  /** Keys of ended sessions, oldest first. */
  private readonly ended = new Set<string>();
  private changed = new Set<SessionState>();
  private readonly strings = new StringCopies();
  /** Moves with every change to what is known: a handover is written again only when it moved. */
  private changes = 0;

  constructor(private readonly limits = { sessions: MAX_SESSIONS, endedSessions: MAX_ENDED_SESSIONS }) {}

  /** Merges a session line into its session. */
  observe(entry: Extract<ParsedEntry, { kind: 'session' }>): void {
    const { record, session: fact } = entry;
    if (record.sessionId === null) return;
    const state = this.getOrCreate(record.server, record.sessionId, record.pid);
    mergeFact(state, fact, record.loggedAt, this.strings);
    // A prefix with %u/%d/%h/%a is as good as the connection lines.
    state.userName ??= this.strings.of(record.userName);
    state.databaseName ??= this.strings.of(record.databaseName);
    state.clientAddr ??= this.strings.of(record.clientAddr);
    state.applicationName ??= this.strings.of(record.applicationName);
    this.changed.add(state);
    this.changes++;
    if (fact.event === 'disconnected') this.noteEnded(sessionKey(record.server, record.sessionId));
  }

  /** A number that moves whenever what is known of the sessions changes. */
  version(): number {
    return this.changes;
  }

  /** The sessions to hand to the next leader of a hub: the newest open ones and the newest ended ones. */
  handOver(limits = HANDOVER_LIMITS): SessionState[] {
    const open: SessionState[] = [];
    const ended: SessionState[] = [];
    for (const state of [...this.sessions.values()].reverse()) {
      if (state.endedAt === null) {
        if (open.length < limits.open) open.push(state);
      } else if (ended.length < limits.ended) ended.push(state);
      if (open.length >= limits.open && ended.length >= limits.ended) break;
    }
    return [...open, ...ended];
  }

  /**
   * Sessions another instance knew (a hub's handover): what is not known here is taken from them, what is known
   * here stays. They are not marked changed: the store upserts a session here only when its own lines arrive,
   * or when `markChanged` says rows of it wait for their user. Returns the keys of the sessions taken.
   */
  adopt(states: readonly SessionState[]): string[] {
    const keys: string[] = [];
    // Oldest first (a handover lists the newest first), so that the newest stay the newest here too.
    for (const given of [...states].reverse()) {
      const state = this.getOrCreate(given.server, given.sessionId, given.pid);
      state.startedAt ??= given.startedAt;
      state.endedAt ??= given.endedAt;
      state.clientPort ??= given.clientPort;
      state.ssl ??= given.ssl;
      state.replication ??= given.replication;
      state.userName ??= this.strings.of(given.userName);
      state.databaseName ??= this.strings.of(given.databaseName);
      state.applicationName ??= this.strings.of(given.applicationName);
      state.clientAddr ??= this.strings.of(given.clientAddr);
      state.authMethod ??= this.strings.of(given.authMethod);
      state.authIdentity ??= this.strings.of(given.authIdentity);
      state.sslProtocol ??= this.strings.of(given.sslProtocol);
      state.sslCipher ??= this.strings.of(given.sslCipher);
      const k = sessionKey(given.server, given.sessionId);
      if (state.endedAt !== null && !this.ended.has(k)) this.noteEnded(k);
      keys.push(k);
    }
    return keys;
  }

  /** Whether the user of a session (`sessionKey`) is known. */
  knowsUser(key: string): boolean {
    return (this.sessions.get(key)?.userName ?? null) !== null;
  }

  /** Sessions the store must upsert with the next batch (rows of them wait there for their user). */
  markChanged(keys: Iterable<string>): void {
    for (const k of keys) {
      const state = this.sessions.get(k);
      if (state) this.changed.add(state);
    }
  }

  /** What is known now about the session of a record; the record's own prefix fields win. */
  attribute(record: { server: string; sessionId: string | null; userName: string | null; databaseName: string | null; clientAddr: string | null; applicationName: string | null }): Attribution {
    const state = record.sessionId === null ? undefined : this.sessions.get(sessionKey(record.server, record.sessionId));
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
    const k = sessionKey(server, sessionId);
    let state = this.sessions.get(k);
    if (!state) {
      const fromId = sessionIdParts(sessionId);
      state = {
        server,
        sessionId: this.strings.of(sessionId),
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
      if (this.sessions.size > this.limits.sessions) this.evictOldest();
    }
    return state;
  }

  private evictOldest(): void {
    const drop = this.sessions.size - this.limits.sessions;
    let dropped = 0;
    for (const k of this.sessions.keys()) {
      if (dropped++ >= drop) break;
      this.sessions.delete(k);
      this.ended.delete(k);
    }
  }

  private noteEnded(k: string): void {
    this.ended.delete(k);
    this.ended.add(k);
    if (this.ended.size <= this.limits.endedSessions) return;
    const oldest = this.ended.keys().next().value!;
    this.ended.delete(oldest);
    this.sessions.delete(oldest);
  }
}

function mergeFact(state: SessionState, fact: SessionFact, at: Date, strings: StringCopies): void {
  switch (fact.event) {
    case 'received':
      state.clientAddr = strings.of(fact.clientAddr) ?? state.clientAddr;
      state.clientPort = fact.clientPort ?? state.clientPort;
      state.startedAt = at; // milliseconds, where the session id has whole seconds
      return;
    case 'authenticated':
      state.authIdentity = strings.of(fact.authIdentity) ?? state.authIdentity;
      state.authMethod = strings.of(fact.authMethod) ?? state.authMethod;
      return;
    case 'authorized':
      state.userName = strings.of(fact.userName) ?? state.userName;
      state.databaseName = strings.of(fact.databaseName) ?? state.databaseName;
      state.applicationName = strings.of(fact.applicationName) ?? state.applicationName;
      state.ssl = fact.ssl ?? state.ssl;
      state.sslProtocol = strings.of(fact.sslProtocol) ?? state.sslProtocol;
      state.sslCipher = strings.of(fact.sslCipher) ?? state.sslCipher;
      state.replication = fact.replication ?? state.replication;
      return;
    case 'disconnected':
      state.endedAt = at;
      state.userName ??= strings.of(fact.userName);
      state.databaseName ??= strings.of(fact.databaseName);
      state.clientAddr ??= strings.of(fact.clientAddr);
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


/**
 * Copies of the strings sessions keep, each distinct value once. A value parsed out of a log line is often a
 * slice of it (V8 slices strings of 13 characters and more): kept as is, it would keep the whole line alive for
 * as long as the session is remembered.
 */
class StringCopies {
  private readonly copies = new Map<string, string>();

  of(value: string): string;
  of(value: string | null | undefined): string | null;
  of(value: string | null | undefined): string | null {
    if (value === null || value === undefined) return null;
    let copy = this.copies.get(value);
    if (copy === undefined) {
      // UTF-16 both ways: an exact copy of any JS string, lone surrogates included.
      copy = Buffer.from(value, 'utf16le').toString('utf16le');
      if (this.copies.size >= MAX_SESSIONS) this.copies.clear();
      this.copies.set(copy, copy);
    }
    return copy;
  }
}
