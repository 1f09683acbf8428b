/**
 * Authentication attacks, as windowed counts over `auth_failures` (this batch's rows are already in the
 * table when the rules run, so a window spanning several batches is counted whole).
 */
import { z } from 'zod';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Rows } from '../../query/format-rows.js';
import { runQueryOverValues } from '../../query/run-query.js';
import { sqlString } from '../../store/sql-literal.js';
import { isLocalClient } from '../../analyze/sessions/local-client.js';
import type { AttributedAuthFailure } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';

/** `password authentication failed` is 28P01; a role that does not exist fails with 28000. */
const GUESSING_SQLSTATES = ['28P01', '28000'];

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string | null): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    if (k === null) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** A client host as a summary names it: a local one is, on Azure, the built-in PgBouncer hiding the real client. */
function hostPhrase(host: string): string {
  return isLocalClient(host) ? `${host} (the server itself: on Azure, clients of the built-in PgBouncer; their own address is not in the log)` : host;
}

function latest(failures: readonly AttributedAuthFailure[]): Date {
  return new Date(Math.max(...failures.map((f) => f.at.getTime())));
}

/** A window of failures to count: those of `key` on `server` in the `minutes` up to `at`. */
interface FailureWindow {
  server: string;
  key: string;
  at: Date;
}

/** Aggregates over the failures `f` of each window, one row per window in order, in one query for all. */
function countWindows(
  connection: DuckDBConnection,
  windows: readonly FailureWindow[],
  opts: { minutes: number; keyColumn: 'user_name' | 'client_addr'; sqlstates: readonly string[]; aggregates: string },
): Promise<Rows['rows']> {
  const values = windows.map((w) => {
    const since = new Date(w.at.getTime() - opts.minutes * 60_000).toISOString();
    return `${sqlString(w.server)}, ${sqlString(w.key)}, ${sqlString(since)}::TIMESTAMPTZ, ${sqlString(w.at.toISOString())}::TIMESTAMPTZ`;
  });
  return runQueryOverValues(
    connection,
    values,
    (list) => `SELECT ${opts.aggregates}
       FROM ${list} w(i, w_server, w_key, w_since, w_at)
       LEFT JOIN auth_failures f ON f.server = w.w_server AND f.${opts.keyColumn} = w.w_key AND f.sqlstate IN (${opts.sqlstates.map(sqlString).join(', ')})
         AND f.logged_at > w.w_since AND f.logged_at <= w.w_at
       GROUP BY w.i ORDER BY w.i`,
  );
}

const FAILURES_OF_USER = `count(f.logged_at) AS n, min(f.logged_at) AS first, list(DISTINCT f.client_addr ORDER BY f.client_addr) FILTER (WHERE f.client_addr IS NOT NULL) AS hosts`;

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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    const failures = facts.authFailures.filter((f) => f.sqlstate === '28P01');
    const groups = [...groupBy(failures, (f) => (f.userName === null ? null : `${f.server}\u0000${f.userName}`)).values()];
    const windows = groups.map((group) => ({ server: group[0]!.server, key: group[0]!.userName!, at: latest(group) }));
    const rows = await countWindows(connection, windows, { minutes: config.windowMinutes, keyColumn: 'user_name', sqlstates: ['28P01'], aggregates: FAILURES_OF_USER });
    for (const [k, group] of groups.entries()) {
      const { server, key: userName, at } = windows[k]!;
      const row = rows[k]!;
      const n = Number(row.n);
      if (n < config.threshold) continue;
      findings.push({
        server,
        at,
        firstAt: new Date(String(row.first)),
        actor: null,
        target: userName,
        dedupKey: userName!,
        count: n,
        increment: group.length,
        summary: `${n} failed password attempts for ${userName} within ${config.windowMinutes} minutes`,
        evidence: { user: userName, failuresInWindow: n, hosts: row.hosts, lastFailure: at.toISOString(), sessionIds: group.slice(0, 5).map((f) => f.sessionId) },
      });
    }
    return findings;
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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    const failures = facts.authFailures.filter((f) => GUESSING_SQLSTATES.includes(f.sqlstate));
    const groups = [...groupBy(failures, (f) => (f.clientAddr === null ? null : `${f.server}\u0000${f.clientAddr}`)).values()];
    const windows = groups.map((group) => ({ server: group[0]!.server, key: group[0]!.clientAddr!, at: latest(group) }));
    const rows = await countWindows(connection, windows, {
      minutes: config.windowMinutes,
      keyColumn: 'client_addr',
      sqlstates: GUESSING_SQLSTATES,
      aggregates: `count(DISTINCT f.user_name) AS users, count(f.logged_at) AS n, min(f.logged_at) AS first, list(DISTINCT f.user_name ORDER BY f.user_name) AS names`,
    });
    for (const [k, group] of groups.entries()) {
      const { server, key: clientAddr, at } = windows[k]!;
      const row = rows[k]!;
      const users = Number(row.users);
      if (users < config.distinctUsers) continue;
      findings.push({
        server,
        at,
        firstAt: new Date(String(row.first)),
        actor: null,
        target: clientAddr,
        dedupKey: clientAddr!,
        count: Number(row.n),
        increment: group.length,
        summary: `failed logins for ${users} different users from ${hostPhrase(clientAddr!)} within ${config.windowMinutes} minutes`,
        evidence: { clientAddr, users: row.names, failuresInWindow: Number(row.n), lastFailure: at.toISOString() },
      });
    }
    return findings;
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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    // A user's last login in the batch: failures before any of its logins in the window are counted.
    const logins = facts.loginsByUser();
    const rows = await countWindows(
      connection,
      logins.map(({ userName, last }) => ({ server: last.server, key: userName, at: last.at })),
      { minutes: config.windowMinutes, keyColumn: 'user_name', sqlstates: ['28P01'], aggregates: FAILURES_OF_USER },
    );
    for (const [k, { userName: user, last: login }] of logins.entries()) {
      const row = rows[k]!;
      const n = Number(row.n);
      if (n < config.minFailures) continue;
      findings.push({
        server: login.server,
        at: login.at,
        firstAt: new Date(String(row.first)),
        actor: user,
        target: user,
        dedupKey: user,
        summary: `${user} logged in from ${login.session.clientAddr === null ? 'an unknown host' : hostPhrase(login.session.clientAddr)} after ${n} failed password attempts`,
        evidence: {
          sessionId: login.sessionId,
          loggedAt: login.at.toISOString(),
          clientAddr: login.session.clientAddr,
          database: login.session.databaseName,
          failuresBefore: n,
          failureHosts: row.hosts,
        },
      });
    }
    return findings;
  },
});
