/**
 * Authentication attacks, as windowed counts over `auth_failures` (this batch's rows are already in the
 * table when the rules run, so a window spanning several batches is counted whole).
 */
import { z } from 'zod';
import { sqlString } from '../../store/sql-literal.js';
import { isLocalClient } from '../../analyze/sessions/local-client.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { countInWindows, windowsOf } from './windowed-counts.js';

/** `password authentication failed` is 28P01; a role that does not exist fails with 28000. */
const GUESSING_SQLSTATES = ['28P01', '28000'];

/** A client host as a summary names it: a local one is, on Azure, the built-in PgBouncer hiding the real client. */
function hostPhrase(host: string): string {
  return isLocalClient(host) ? `${host} (the server itself: on Azure, clients of the built-in PgBouncer; their own address is not in the log)` : host;
}

function failuresWith(sqlstates: readonly string[]): string {
  return `r.sqlstate IN (${sqlstates.map(sqlString).join(', ')})`;
}

const FAILURES_OF_USER = `count(r.logged_at) AS n, min(r.logged_at) AS first, list(DISTINCT r.client_addr ORDER BY r.client_addr) FILTER (WHERE r.client_addr IS NOT NULL) AS hosts`;

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
    const windows = windowsOf(failures, (f) => ({ server: f.server, key: f.userName }), (f) => f.at);
    const rows = await countInWindows(connection, windows, {
      table: 'auth_failures', keyColumn: 'user_name', where: failuresWith(['28P01']), minutes: config.windowMinutes, aggregates: FAILURES_OF_USER,
    });
    for (const [k, { server, key: userName, at, facts: group }] of windows.entries()) {
      const row = rows[k]!;
      const n = Number(row.n);
      if (n < config.threshold) continue;
      findings.push({
        server,
        at,
        firstAt: new Date(String(row.first)),
        actor: null,
        target: userName,
        dedupKey: userName,
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
    const windows = windowsOf(failures, (f) => ({ server: f.server, key: f.clientAddr }), (f) => f.at);
    const rows = await countInWindows(connection, windows, {
      table: 'auth_failures',
      keyColumn: 'client_addr',
      where: failuresWith(GUESSING_SQLSTATES),
      minutes: config.windowMinutes,
      aggregates: `count(DISTINCT r.user_name) AS users, count(r.logged_at) AS n, min(r.logged_at) AS first, list(DISTINCT r.user_name ORDER BY r.user_name) AS names`,
    });
    for (const [k, { server, key: clientAddr, at, facts: group }] of windows.entries()) {
      const row = rows[k]!;
      const users = Number(row.users);
      if (users < config.distinctUsers) continue;
      findings.push({
        server,
        at,
        firstAt: new Date(String(row.first)),
        actor: null,
        target: clientAddr,
        dedupKey: clientAddr,
        count: Number(row.n),
        increment: group.length,
        summary: `failed logins for ${users} different users from ${hostPhrase(clientAddr)} within ${config.windowMinutes} minutes`,
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
    const rows = await countInWindows(
      connection,
      logins.map(({ userName, last }) => ({ server: last.server, key: userName, at: last.at })),
      { table: 'auth_failures', keyColumn: 'user_name', where: failuresWith(['28P01']), minutes: config.windowMinutes, aggregates: FAILURES_OF_USER },
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
