/**
 * Each (server, user)'s previous login, for `dormant-role-login`, without reading all of `sessions` every batch:
 * the two latest session starts of every user, read from `sessions` once (the first batch after start, inside its
 * transaction), then kept in step with the store by each batch's merged sessions (`WrittenBatch.mergedSessions`:
 * the rows as the store holds them after the batch's upsert, so who a session is and when it began are the
 * store's, not this process's guess). A rolled-back batch drops them (`forget`), and the next batch reads them
 * again: they are always what `sessions` says, after a restart or a takeover as much as in a long run.
 *
 * The answer is the latest start of another session of the user before the login, as the query over `sessions`
 * gave. Two starts a user are enough for a login later than them (the usual case); a login earlier than a kept
 * start (it arrived out of order) is looked up in `sessions` as before.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery, runQueryOverRows } from '../query/run-query.js';
import { boundRows } from '../store/bound-rows.js';
import type { MergedSession } from '../store/audit-store.js';
import { pairKey, sessionKey, splitPairKey } from '../contracts/session-key.js';

/** A user's latest session starts: how many are kept. */
const KEPT = 2;

interface Start {
  session: string;
  micros: number;
}

interface UserStarts {
  /** The latest starts, newest first. */
  latest: Start[];
  /** Whether the user has sessions with a start other than `latest`. */
  more: boolean;
}

/** A login as `sessions` holds it. */
export interface StoredLogin {
  server: string;
  user: string;
  sessionId: string;
  /** Its session's start, in epoch microseconds. */
  micros: number;
  clientAddr: string | null;
  databaseName: string | null;
  applicationName: string | null;
}

export interface LoginAsked {
  server: string;
  user: string;
  sessionId: string;
  at: Date;
}

export class LastLogins {
  private users: Map<string, UserStarts> | null = null;
  /** For each session in some user's `latest`: that user's key (the store can give a session another user). */
  private owners = new Map<string, string>();
  /** Users whose kept starts lost a session: the next-latest is not kept, so they are read again. */
  private stale = new Set<string>();
  /**
   * The last `previous` call's batch, for `firstStoredAfter`: the kept starts of the users its sessions touched as
   * they were before it (null: none), and its own starts by user. Null when that call had no merged sessions (the
   * starts were then read from `sessions`, which holds the batch).
   */
  private batch: { before: Map<string, UserStarts | null>; starts: Map<string, Start[]> } | null = null;

  /** What was learnt in a transaction that rolled back is not in the store. */
  forget(): void {
    this.users = null;
    this.owners.clear();
    this.stale.clear();
    this.batch = null;
  }

  /**
   * The previous login of each asked login as the store knows it in this batch's transaction: the latest
   * `started_at` of another session of the user before the login's time, null when there is none. Then takes in
   * the batch's merged sessions (`merged`; without them, or the first time, the starts are read from `sessions`).
   * Call once a batch, logins or not. One query over `sessions` for the logins the kept starts cannot answer
   * (usually none). The first time, the starts are read without the batch's merged sessions, which it brings as its
   * own: read with them, the kept starts would be mostly the batch's, and its logins earlier than them asked again.
   */
  async previous(connection: DuckDBConnection, merged: readonly MergedSession[] | undefined, asked: readonly LoginAsked[]): Promise<(string | null)[]> {
    if (this.users === null || merged === undefined) await this.read(connection, { excluding: merged ?? [] });
    const batch = merged === undefined ? new Map<string, Start[]>() : byUser(merged);
    this.batch = merged === undefined ? null : { before: this.startsOf(merged), starts: batch };
    const inBatch = new Set((merged ?? []).flatMap((s) => (this.owners.has(sessionKey(s.server, s.sessionId)) ? [sessionKey(s.server, s.sessionId)] : [])));
    const answers: (string | null | undefined)[] = asked.map((a) => this.answer(a, batch.get(userKey(a.server, a.user)) ?? [], inBatch));
    const unknown = asked.flatMap((a, i) => (answers[i] === undefined ? [{ a, i }] : []));
    const rows = await runQueryOverRows(
      connection,
      { w_server: 'VARCHAR', w_user: 'VARCHAR', w_session: 'VARCHAR', w_at: 'TIMESTAMPTZ' },
      unknown.map(({ a }) => ({ w_server: a.server, w_user: a.user, w_session: a.sessionId, w_at: a.at })),
      (list) => `SELECT (SELECT max(s.started_at) FROM sessions s WHERE s.server = w.w_server AND s.user_name = w.w_user AND s.session_id <> w.w_session
                   AND s.started_at < w.w_at) AS last_login
         FROM ${list} w ORDER BY w.i`,
    );
    unknown.forEach(({ i }, k) => (answers[i] = (rows[k]!.last_login as string | null) ?? null));
    if (merged !== undefined) {
      for (const s of merged) this.apply(s);
      if (this.stale.size > 0) await this.read(connection, { only: [...this.stale] });
    }
    return answers as (string | null)[];
  }

  /**
   * For each user of `earliest` (a user's earliest login in the batch), its earliest stored login of a session the
   * batch did not bring (`batchSessions`: session keys), when that login is later than the batch's: the login
   * whose previous one the batch may have become (`dormant-role-login` judges it again). Call after `previous`.
   * Kept starts answer most users (a batch's logins later than every stored one follow none); the others are read
   * from `sessions`, one query.
   */
  async firstStoredAfter(connection: DuckDBConnection, earliest: readonly LoginAsked[], batchSessions: ReadonlySet<string>): Promise<(StoredLogin | null)[]> {
    const at = (a: LoginAsked) => a.at.getTime() * 1000;
    const ask = earliest.flatMap((a, i) => (this.mayBeFollowedAfterBatch(a.server, a.user, at(a), batchSessions) ? [{ a, i }] : []));
    const out: (StoredLogin | null)[] = earliest.map(() => null);
    if (ask.length === 0) return out;
    const w = boundRows({ i: 'BIGINT', w_server: 'VARCHAR', w_user: 'VARCHAR' }, ask.map(({ a }, i) => ({ i, w_server: a.server, w_user: a.user })));
    const batch = boundRows(
      { b_server: 'VARCHAR', b_session: 'VARCHAR' },
      [...batchSessions].map((k) => {
        const [server, session] = splitPairKey(k);
        return { b_server: server, b_session: session };
      }),
    );
    const { rows } = await runQuery(
      connection,
      `SELECT w.i, s.session_id, epoch_us(s.started_at) AS started, s.client_addr, s.database_name, s.application_name
       FROM ${w.sql} w JOIN sessions s ON s.server = w.w_server AND s.user_name = w.w_user AND s.started_at IS NOT NULL
       WHERE NOT EXISTS (SELECT 1 FROM ${batch.sql} b WHERE b.b_server = s.server AND b.b_session = s.session_id)
       QUALIFY row_number() OVER (PARTITION BY w.i ORDER BY s.started_at, s.session_id) = 1`,
      { ...w.values, ...batch.values },
      { ...w.types, ...batch.types },
    );
    for (const row of rows) {
      const { a, i } = ask[Number(row.i)]!;
      // Only a later login is one whose previous login the batch may be.
      if (Number(row.started) <= at(a)) continue;
      const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
      out[i] = { server: a.server, user: a.user, sessionId: String(row.session_id), micros: Number(row.started), clientAddr: text(row.client_addr), databaseName: text(row.database_name), applicationName: text(row.application_name) };
    }
    return out;
  }

  /**
   * Whether a stored login of a session not in `batchSessions` may be later than `micros`, by the kept starts
   * (true before they are read): a batch's login later than every stored one follows all of them.
   */
  mayBeFollowed(server: string, user: string, micros: number, batchSessions: ReadonlySet<string> = new Set()): boolean {
    const starts = this.users?.get(userKey(server, user));
    if (!starts) return this.users === null;
    if (starts.latest.some((s) => !batchSessions.has(s.session) && s.micros > micros)) return true;
    // Starts not kept are at most the oldest kept one.
    return starts.more && (starts.latest.at(-1)?.micros ?? -Infinity) > micros;
  }

  /**
   * `mayBeFollowed` once `previous` has taken in the batch's sessions, judged by the starts kept before it and the
   * batch's own: the kept starts are by then mostly the batch's, which say nothing of a stored login later than
   * the batch's earliest one, so judging by them alone asked `sessions` every batch for a user of many sessions.
   */
  private mayBeFollowedAfterBatch(server: string, user: string, micros: number, batchSessions: ReadonlySet<string>): boolean {
    if (this.batch === null) return this.mayBeFollowed(server, user, micros, batchSessions);
    const key = userKey(server, user);
    const touched = this.batch.before.has(key);
    const before = touched ? this.batch.before.get(key)! : (this.users!.get(key) ?? null);
    if (!touched && before === null) return false;
    const later = (s: Start) => !batchSessions.has(s.session) && s.micros > micros;
    if (before?.latest.some(later) || this.batch.starts.get(key)?.some(later)) return true;
    // Starts not kept before the batch are at most its oldest kept one; the batch's own are all above.
    return before !== null && before.more && (before.latest.at(-1)?.micros ?? -Infinity) > micros;
  }

  /** A copy of the kept starts of the users whose sessions `merged` holds (null: none kept), before they take them in. */
  private startsOf(merged: readonly MergedSession[]): Map<string, UserStarts | null> {
    const out = new Map<string, UserStarts | null>();
    for (const s of merged) {
      const users = [s.userName === null ? null : userKey(s.server, s.userName), this.owners.get(sessionKey(s.server, s.sessionId)) ?? null];
      for (const user of users) {
        if (user === null || out.has(user)) continue;
        const starts = this.users!.get(user);
        out.set(user, starts ? { latest: starts.latest.map((x) => ({ ...x })), more: starts.more } : null);
      }
    }
    return out;
  }

  /**
   * From the starts kept before the batch and the batch's own sessions of the user (`batch`; `inBatch`: the kept
   * sessions the batch merged again, whose kept start is old): the answer, or undefined when a start that is not
   * kept could be it.
   */
  private answer(a: LoginAsked, batch: readonly Start[], inBatch: ReadonlySet<string>): string | null | undefined {
    const starts = this.users!.get(userKey(a.server, a.user)) ?? { latest: [], more: false };
    const self = sessionKey(a.server, a.sessionId);
    const at = a.at.getTime() * 1000;
    let best = -Infinity;
    for (const s of starts.latest) {
      if (!inBatch.has(s.session) && s.session !== self && s.micros < at && s.micros > best) best = s.micros;
    }
    // The batch's starts are in time order: the latest before the login is found by binary search, not a scan a
    // login (every login of a batch is asked, and a pool logs in hundreds of times a batch).
    for (let i = lastBefore(batch, at); i >= 0; i--) {
      if (batch[i]!.session === self) continue;
      best = Math.max(best, batch[i]!.micros);
      break;
    }
    // Every start not kept (nor in the batch) is at most the oldest kept one.
    const oldestKept = starts.latest.at(-1)?.micros ?? -Infinity;
    if (starts.more && best < oldestKept) return undefined;
    return best === -Infinity ? null : isoFromMicros(best);
  }

  private apply(s: MergedSession): void {
    const key = sessionKey(s.server, s.sessionId);
    const user = s.userName === null ? null : userKey(s.server, s.userName);
    const was = this.owners.get(key);
    if (was !== undefined && was !== user) {
      // The session now belongs to another user: its old user's next-latest start is not kept.
      this.owners.delete(key);
      this.stale.add(was);
    }
    if (user === null || s.startedAtMicros === null) return;
    this.keep(user, key, s.startedAtMicros);
  }

  private keep(user: string, session: string, micros: number): void {
    const users = this.users!;
    let starts = users.get(user);
    if (!starts) users.set(user, (starts = { latest: [], more: false }));
    const at = starts.latest.findIndex((s) => s.session === session);
    if (at >= 0) starts.latest[at]!.micros = micros;
    else starts.latest.push({ session, micros });
    starts.latest.sort((a, b) => b.micros - a.micros);
    while (starts.latest.length > KEPT) {
      this.owners.delete(starts.latest.pop()!.session);
      starts.more = true;
    }
    if (starts.latest.some((s) => s.session === session)) this.owners.set(session, user);
  }

  /**
   * Reads from `sessions` the latest starts of every user, or of the users keyed in `only`, leaving out the sessions
   * of `excluding`.
   */
  private async read(connection: DuckDBConnection, { only, excluding = [] }: { only?: readonly string[]; excluding?: readonly MergedSession[] }): Promise<void> {
    if (only === undefined) {
      this.users = new Map();
      this.owners.clear();
    } else {
      for (const user of only) {
        for (const s of this.users!.get(user)?.latest ?? []) this.owners.delete(s.session);
        this.users!.delete(user);
      }
    }
    this.stale.clear();
    const users =
      only === undefined
        ? null
        : boundRows(
            { u_server: 'VARCHAR', u_user: 'VARCHAR' },
            only.map((k) => {
              const [server, user] = splitPairKey(k);
              return { u_server: server, u_user: user };
            }),
          );
    const left = boundRows({ x_server: 'VARCHAR', x_session: 'VARCHAR' }, excluding.map((s) => ({ x_server: s.server, x_session: s.sessionId })));
    const { rows } = await runQuery(
      connection,
      `SELECT server, user_name, session_id, epoch_us(started_at) AS micros, count(*) OVER (PARTITION BY server, user_name) AS sessions
       FROM sessions WHERE user_name IS NOT NULL AND started_at IS NOT NULL
         ${users === null ? '' : `AND EXISTS (SELECT 1 FROM ${users.sql} u WHERE u.u_server = server AND u.u_user = user_name)`}
         AND NOT EXISTS (SELECT 1 FROM ${left.sql} x WHERE x.x_server = server AND x.x_session = session_id)
       QUALIFY row_number() OVER (PARTITION BY server, user_name ORDER BY started_at DESC) <= ${KEPT}`,
      { ...users?.values, ...left.values },
      { ...users?.types, ...left.types },
    );
    for (const row of rows) {
      const key = userKey(String(row.server), String(row.user_name));
      this.keep(key, sessionKey(String(row.server), String(row.session_id)), Number(row.micros));
      if (Number(row.sessions) > KEPT) this.users!.get(key)!.more = true;
    }
  }
}

/** The index of the last start before `micros` in starts sorted by time, or -1. */
function lastBefore(starts: readonly Start[], micros: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]!.micros < micros) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The batch's merged sessions with a user and a start, by user, each user's in time order. */
function byUser(merged: readonly MergedSession[]): Map<string, Start[]> {
  const users = new Map<string, Start[]>();
  for (const s of merged) {
    if (s.userName === null || s.startedAtMicros === null) continue;
    const key = userKey(s.server, s.userName);
    let starts = users.get(key);
    if (!starts) users.set(key, (starts = []));
    starts.push({ session: sessionKey(s.server, s.sessionId), micros: s.startedAtMicros });
  }
  for (const starts of users.values()) starts.sort((a, b) => a.micros - b.micros);
  return users;
}

function userKey(server: string, user: string): string {
  return pairKey(server, user);
}

/** As `toPlain` gives a TIMESTAMPTZ: milliseconds, truncated. */
function isoFromMicros(micros: number): string {
  return new Date(Math.trunc(micros / 1000)).toISOString();
}
