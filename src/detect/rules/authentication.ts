/**
 * Authentication attacks, as windowed counts over `auth_failures` (this batch's rows are already in the
 * table when the rules run, so a window spanning several batches is counted whole). The three rules count over
 * one read of the table a batch (`spans`, `StoredWindows`).
 */
import { z } from 'zod';
import { isLocalClient } from '../../analyze/sessions/local-client.js';
import { pairKey, sessionKey } from '../../contracts/session-key.js';
import type { BatchFacts } from '../batch-facts.js';
import type { StoredAuthFailure, StoredLogin, StoredSpan } from '../stored-windows.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { distinctSorted, earliest, keysOf, newBursts, spanOf, windowMicros, type FreshRow } from './windowed-counts.js';

/** `password authentication failed` is 28P01; a role that does not exist fails with 28000. */
const GUESSING_SQLSTATES = ['28P01', '28000'];

/** A client host as a summary names it: a local one is, on Azure, the built-in PgBouncer hiding the real client. */
function hostPhrase(host: string): string {
  return isLocalClient(host) ? `${host} (the server itself: on Azure, clients of the built-in PgBouncer; their own address is not in the log)` : host;
}

function failuresWith(sqlstates: readonly string[]): (r: StoredAuthFailure) => boolean {
  return (r) => r.sqlstate !== null && sqlstates.includes(r.sqlstate);
}

const PASSWORD_FAILURE = failuresWith(['28P01']);
const GUESSING_FAILURE = failuresWith(GUESSING_SQLSTATES);
const byUser = (r: StoredAuthFailure): string | null => r.userName;
const byHost = (r: StoredAuthFailure): string | null => r.clientAddr;

/** A user's password failures in a window: how many, since when, from which hosts. */
function failuresOfUser(rows: readonly StoredAuthFailure[]) {
  return { n: rows.length, first: earliest(rows), hosts: distinctSorted(rows.map((r) => r.clientAddr)) };
}

/** A host's failed logins in a window: how many, since when, for how many users and which (a NULL name last). */
function failuresFromHost(rows: readonly StoredAuthFailure[]) {
  const names = distinctSorted(rows.map((r) => r.userName));
  const withNull = rows.some((r) => r.userName === null) ? [...(names ?? []), null] : names;
  return { n: rows.length, first: earliest(rows), users: names?.length ?? 0, names: withNull };
}

const micros = (at: Date) => at.getTime() * 1000;

/** The batch's password failures, keyed by user. */
function freshPasswordFailures(facts: BatchFacts): FreshRow[] {
  return facts.authFailures.filter((f) => f.sqlstate === '28P01').map((f) => ({ server: f.server, key: f.userName, atMicros: micros(f.at) }));
}

/** The batch's guessing failures, keyed by client host, valued by user (a spray counts users). */
function freshGuessingFailures(facts: BatchFacts): FreshRow[] {
  return facts.authFailures.filter((f) => GUESSING_SQLSTATES.includes(f.sqlstate)).map((f) => ({ server: f.server, key: f.clientAddr, atMicros: micros(f.at), value: f.userName }));
}

/**
 * The batch's logins, each at its session's start (as `sessions` stores it, where a login read back later is
 * found), or at its authorization when the start is not known.
 */
function batchLogins(facts: BatchFacts): StoredLogin[] {
  const out: StoredLogin[] = [];
  for (const l of facts.logins) {
    if (l.session.userName === null) continue;
    out.push({
      server: l.server, atMicros: micros(l.session.startedAt ?? l.at), userName: l.session.userName, sessionId: l.sessionId,
      clientAddr: l.session.clientAddr, databaseName: l.session.databaseName,
    });
  }
  return out;
}

/**
 * What failures-then-success reads: failures in the window before each of the batch's logins, and around each of its
 * failures (`minutes` before a stored login it may precede, up to `minutes` after it); stored logins of the users
 * who failed, up to `minutes` after each of its failures (a login stored before the failures that precede it).
 */
function successSpans(facts: BatchFacts, minutes: number): { failures: StoredSpan<'auth_failures'> | null; logins: StoredSpan<'logins'> | null } {
  const w = windowMicros(minutes);
  const fresh = freshPasswordFailures(facts);
  const logins = timeSpan(batchLogins(facts));
  const failures = timeSpan(fresh);
  if (logins === null && failures === null) return { failures: null, logins: null };
  // A failure without a user precedes no login; a stored login counts only after a failure of its own user.
  const users = keysOf(fresh);
  return {
    failures: {
      table: 'auth_failures',
      fromMicros: Math.min(logins?.first ?? Infinity, failures?.first ?? Infinity) - w,
      toMicros: Math.max(logins?.last ?? -Infinity, (failures?.last ?? -Infinity) + w),
    },
    logins: failures === null || users.length === 0 ? null : { table: 'logins', fromMicros: failures.first - 1, toMicros: failures.last + w, keys: users },
  };
}

/** The earliest and the latest time of some rows; null for none. */
function timeSpan(rows: readonly { atMicros: number }[]): { first: number; last: number } | null {
  if (rows.length === 0) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const r of rows) {
    if (r.atMicros < first) first = r.atMicros;
    if (r.atMicros > last) last = r.atMicros;
  }
  return { first, last };
}

/** Logins of one user that this batch made successes after failures: the latest, its failures, how many. */
interface SuccessAfterFailures {
  login: StoredLogin;
  failures: StoredAuthFailure[];
  added: number;
  firstAt: Date;
}

/**
 * Logins (the batch's, and stored ones its failures may precede) with at least `minFailures` password failures of
 * their user in the `windowMinutes` before them (`(login − window, login]`) that had fewer before this batch's
 * failures were stored (the batch's own logins never counted before): one a user, its latest login, counting all.
 */
function successesAfterFailures(
  failures: readonly StoredAuthFailure[],
  fresh: readonly FreshRow[],
  batch: readonly StoredLogin[],
  storedLogins: readonly StoredLogin[],
  config: { minFailures: number; windowMinutes: number },
): SuccessAfterFailures[] {
  const w = windowMicros(config.windowMinutes);
  const byUser = failuresByUser(failures, fresh);
  const found = new Map<string, FoundSuccess>();
  const batchSessions = new Set<string>();
  for (const login of batch) {
    batchSessions.add(sessionKey(login.server, login.sessionId));
    countSuccess(found, byUser, login, true, w, config.minFailures);
  }
  for (const login of storedLogins) {
    if (!batchSessions.has(sessionKey(login.server, login.sessionId))) countSuccess(found, byUser, login, false, w, config.minFailures);
  }
  return [...found.values()].map(({ login, added, firstAt, from, to, rows }) => ({ login, added, firstAt, failures: rows.slice(from, to) }));
}

/** One user's password failures in time order, which of them are the batch's, and how many old ones come before each. */
interface UserFailures {
  failures: StoredAuthFailure[];
  isFresh: boolean[];
  oldBefore: number[];
}

/** A user's success so far: its latest login, and the failures before it as a range of the user's failures. */
type FoundSuccess = SuccessAfterFailures & { from: number; to: number; rows: readonly StoredAuthFailure[] };

/**
 * Each user's failures, sorted, with the batch's own marked (`fresh`, matched by server, user and time): a window's
 * failures are then a range found by binary search, not a scan a login (a pool logs in hundreds of times).
 */
function failuresByUser(failures: readonly StoredAuthFailure[], fresh: readonly FreshRow[]): Map<string, UserFailures> {
  const unmatched = new Map<string, number>();
  for (const f of fresh) {
    if (f.key === null) continue;
    const k = `${f.server}\u0000${f.key}\u0000${f.atMicros}`;
    unmatched.set(k, (unmatched.get(k) ?? 0) + 1);
  }
  const byUser = new Map<string, UserFailures>();
  for (const r of failures) {
    if (r.userName === null) continue;
    const k = pairKey(r.server, r.userName);
    let g = byUser.get(k);
    if (!g) byUser.set(k, (g = { failures: [], isFresh: [], oldBefore: [] }));
    g.failures.push(r);
  }
  for (const [k, g] of byUser) {
    g.failures.sort((a, b) => a.atMicros - b.atMicros);
    let old = 0;
    for (const r of g.failures) {
      const fk = `${k}\u0000${r.atMicros}`;
      const left = unmatched.get(fk) ?? 0;
      if (left > 0) unmatched.set(fk, left - 1);
      g.oldBefore.push(old);
      g.isFresh.push(left > 0);
      if (left === 0) old++;
    }
    g.oldBefore.push(old);
  }
  return byUser;
}

/**
 * Counts one login a success after failures when its user has `minFailures` in the window before it, and, for a
 * stored login (`isNew` false), had fewer before this batch's failures.
 */
function countSuccess(found: Map<string, FoundSuccess>, byUser: ReadonlyMap<string, UserFailures>, login: StoredLogin, isNew: boolean, w: number, minFailures: number): void {
  const k = pairKey(login.server, login.userName);
  const g = byUser.get(k);
  if (!g) return;
  // Failures in (login − window, login]: indexes [from, to).
  const from = firstAfter(g.failures, login.atMicros - w);
  const to = firstAfter(g.failures, login.atMicros);
  const old = g.oldBefore[to]! - g.oldBefore[from]!;
  if (to - from < minFailures || (!isNew && old >= minFailures)) return;
  const firstAt = new Date(Math.trunc(g.failures[from]!.atMicros / 1000));
  const known = found.get(k);
  if (!known) {
    found.set(k, { login, failures: [], added: 1, firstAt, from, to, rows: g.failures });
    return;
  }
  known.added++;
  if (firstAt < known.firstAt) known.firstAt = firstAt;
  if (login.atMicros >= known.login.atMicros) {
    known.login = login;
    known.from = from;
    known.to = to;
  }
}

/** The index of the first row after `micros` in rows sorted by time. */
function firstAfter(rows: readonly { atMicros: number }[], micros: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.atMicros <= micros) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const bruteForce = defineRule({
  id: 'brute-force',
  title: 'Brute force on a user',
  severity: 'high',
  mitre: 'T1110.001 Brute Force: Password Guessing',
  trigger: 'at least `threshold` password failures (28P01) for one user within `windowMinutes`',
  description: 'One alert per burst: it grows (count, last_seen, samples) while the failures go on.',
  config: baseRuleConfig.extend({
    threshold: z.number().int().positive().default(10).describe('failures that make a burst'),
    windowMinutes: z.number().positive().default(5).describe('sliding window'),
  }),
  spans: (facts, config) => [spanOf('auth_failures', freshPasswordFailures(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const fresh = freshPasswordFailures(facts);
    const span = spanOf('auth_failures', fresh, config.windowMinutes);
    if (span === null) return [];
    const bursts = newBursts<StoredAuthFailure>(stored.rows(span), fresh, { keyOf: byUser, where: PASSWORD_FAILURE, minutes: config.windowMinutes, threshold: config.threshold });
    return bursts.map(({ server, key: userName, at, firstAt, added, largest }): Finding => {
      const row = failuresOfUser(largest);
      const sessionIds = facts.authFailures.filter((f) => f.server === server && f.userName === userName && f.sqlstate === '28P01').slice(0, 5).map((f) => f.sessionId);
      return {
        server,
        at,
        firstAt,
        actor: null,
        target: userName,
        dedupKey: userName,
        count: added,
        summary: `${row.n} failed password attempts for ${userName} within ${config.windowMinutes} minutes`,
        evidence: { user: userName, failuresInWindow: row.n, hosts: row.hosts, lastFailure: at.toISOString(), sessionIds },
      };
    });
  },
});

export const passwordSpray = defineRule({
  id: 'password-spray',
  title: 'Password spray from one host',
  severity: 'high',
  mitre: 'T1110.003 Brute Force: Password Spraying',
  trigger: 'failed logins (28P01, or 28000 for roles that do not exist) for at least `distinctUsers` different users from one client host within `windowMinutes`',
  description: 'Few guesses against many accounts stay under per-user thresholds; counting users per host catches them.',
  config: baseRuleConfig.extend({
    distinctUsers: z.number().int().positive().default(5).describe('different users that make a spray'),
    windowMinutes: z.number().positive().default(10).describe('sliding window'),
  }),
  spans: (facts, config) => [spanOf('auth_failures', freshGuessingFailures(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const fresh = freshGuessingFailures(facts);
    const span = spanOf('auth_failures', fresh, config.windowMinutes);
    if (span === null) return [];
    const bursts = newBursts<StoredAuthFailure>(stored.rows(span), fresh, {
      keyOf: byHost, where: GUESSING_FAILURE, minutes: config.windowMinutes, threshold: config.distinctUsers, distinctBy: byUser,
    });
    return bursts.map(({ server, key: clientAddr, at, firstAt, added, largest }): Finding => {
      const row = failuresFromHost(largest);
      return {
        server,
        at,
        firstAt,
        actor: null,
        target: clientAddr,
        dedupKey: clientAddr,
        count: added,
        summary: `failed logins for ${row.users} different users from ${hostPhrase(clientAddr)} within ${config.windowMinutes} minutes`,
        evidence: { clientAddr, users: row.names, failuresInWindow: row.n, lastFailure: at.toISOString() },
      };
    });
  },
});

export const failuresThenSuccess = defineRule({
  id: 'failures-then-success',
  title: 'Failed logins followed by a success',
  severity: 'high',
  mitre: 'T1110 Brute Force',
  trigger: 'a successful login of a user who had at least `minFailures` password failures within the `windowMinutes` before it',
  description: 'The guess that worked: the account should be treated as compromised until its owner confirms the login.',
  config: baseRuleConfig.extend({
    minFailures: z.number().int().positive().default(3).describe('failures before the success'),
    windowMinutes: z.number().positive().default(10).describe('how far back failures count'),
  }),
  spans: (facts, config) => {
    const { failures, logins } = successSpans(facts, config.windowMinutes);
    return [failures, logins];
  },
  evaluate({ facts, config, stored }) {
    const spans = successSpans(facts, config.windowMinutes);
    if (spans.failures === null) return [];
    const failures = stored.rows(spans.failures).filter(PASSWORD_FAILURE);
    const storedLogins = spans.logins === null ? [] : stored.rows(spans.logins);
    return successesAfterFailures(failures, freshPasswordFailures(facts), batchLogins(facts), storedLogins, config).map(({ login, failures: before, added, firstAt }): Finding => {
      const row = failuresOfUser(before);
      const at = new Date(Math.trunc(login.atMicros / 1000));
      return {
        server: login.server,
        at,
        firstAt,
        actor: login.userName,
        target: login.userName,
        dedupKey: login.userName,
        count: added,
        summary: `${login.userName} logged in from ${login.clientAddr === null ? 'an unknown host' : hostPhrase(login.clientAddr)} after ${row.n} failed password attempts`,
        evidence: {
          sessionId: login.sessionId,
          loggedAt: at.toISOString(),
          clientAddr: login.clientAddr,
          database: login.databaseName,
          failuresBefore: row.n,
          failureHosts: row.hosts,
        },
      };
    });
  },
});
