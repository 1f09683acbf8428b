/**
 * Authentication attacks, as windowed counts over `auth_failures` (this batch's rows are already in the
 * table when the rules run, so a window spanning several batches is counted whole).
 */
import { z } from 'zod';
import { runQuery } from '../../query/run-query.js';
import type { AuthFailureFact } from '../batch-facts.js';
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

function latest(failures: readonly AuthFailureFact[]): Date {
  return new Date(Math.max(...failures.map((f) => f.at.getTime())));
}

function windowStart(at: Date, minutes: number): string {
  return new Date(at.getTime() - minutes * 60_000).toISOString();
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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    const failures = facts.authFailures.filter((f) => f.sqlstate === '28P01');
    for (const [, group] of groupBy(failures, (f) => (f.userName === null ? null : `${f.server}\u0000${f.userName}`))) {
      const { server, userName } = group[0]!;
      const at = latest(group);
      const window = await runQuery(
        connection,
        `SELECT count(*) AS n, min(logged_at) AS first, list(DISTINCT client_addr) FILTER (WHERE client_addr IS NOT NULL) AS hosts
         FROM auth_failures WHERE server = $server AND user_name = $user AND sqlstate = '28P01'
           AND logged_at > $since::TIMESTAMPTZ AND logged_at <= $at::TIMESTAMPTZ`,
        { server, user: userName!, since: windowStart(at, config.windowMinutes), at: at.toISOString() },
      );
      const row = window.rows[0]!;
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
    for (const [, group] of groupBy(failures, (f) => (f.clientAddr === null ? null : `${f.server}\u0000${f.clientAddr}`))) {
      const { server, clientAddr } = group[0]!;
      const at = latest(group);
      const window = await runQuery(
        connection,
        `SELECT count(DISTINCT user_name) AS users, count(*) AS n, min(logged_at) AS first, list(DISTINCT user_name ORDER BY user_name) AS names
         FROM auth_failures WHERE server = $server AND client_addr = $host AND sqlstate IN ('28P01', '28000')
           AND logged_at > $since::TIMESTAMPTZ AND logged_at <= $at::TIMESTAMPTZ`,
        { server, host: clientAddr!, since: windowStart(at, config.windowMinutes), at: at.toISOString() },
      );
      const row = window.rows[0]!;
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
        summary: `failed logins for ${users} different users from ${clientAddr} within ${config.windowMinutes} minutes`,
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
    for (const { userName: user, last: login } of facts.loginsByUser()) {
      const window = await runQuery(
        connection,
        `SELECT count(*) AS n, min(logged_at) AS first, list(DISTINCT client_addr) FILTER (WHERE client_addr IS NOT NULL) AS hosts
         FROM auth_failures WHERE server = $server AND user_name = $user AND sqlstate = '28P01'
           AND logged_at > $since::TIMESTAMPTZ AND logged_at <= $at::TIMESTAMPTZ`,
        { server: login.server, user, since: windowStart(login.at, config.windowMinutes), at: login.at.toISOString() },
      );
      const row = window.rows[0]!;
      const n = Number(row.n);
      if (n < config.minFailures) continue;
      findings.push({
        server: login.server,
        at: login.at,
        firstAt: new Date(String(row.first)),
        actor: user,
        target: user,
        dedupKey: user,
        summary: `${user} logged in from ${login.session.clientAddr ?? 'an unknown host'} after ${n} failed password attempts`,
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
