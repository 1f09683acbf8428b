/**
 * Authentication attacks, as windowed counts over `auth_failures` (this batch's rows are already in the
 * table when the rules run, so a window spanning several batches is counted whole). The three rules count over
 * one read of the table a batch (`spans`, `StoredWindows`).
 */
import { z } from 'zod';
import { isLocalClient } from '../../analyze/sessions/local-client.js';
import type { BatchFacts } from '../batch-facts.js';
import type { StoredAuthFailure } from '../stored-windows.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { distinctSorted, earliest, rowsInWindows, spanOf, windowsOf } from './windowed-counts.js';

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
const byUser = (r: StoredAuthFailure) => r.userName;
const byHost = (r: StoredAuthFailure) => r.clientAddr;

/** A user's password failures in a window: how many, since when, from which hosts. */
export function failuresOfUser(rows: readonly StoredAuthFailure[]) {
  return { n: rows.length, first: earliest(rows), hosts: distinctSorted(rows.map((r) => r.clientAddr)) };
}

/** A host's failed logins in a window: how many, since when, for how many users and which (a NULL name last). */
export function failuresFromHost(rows: readonly StoredAuthFailure[]) {
  const names = distinctSorted(rows.map((r) => r.userName));
  const withNull = rows.some((r) => r.userName === null) ? [...(names ?? []), null] : names;
  return { n: rows.length, first: earliest(rows), users: names?.length ?? 0, names: withNull };
}

/** Brute force's windows: one per user with password failures in the batch. */
function bruteForceWindows(facts: BatchFacts) {
  const failures = facts.authFailures.filter((f) => f.sqlstate === '28P01');
  return windowsOf(failures, (f) => ({ server: f.server, key: f.userName }), (f) => f.at);
}

/** A spray's windows: one per client host with guessing failures in the batch. */
function sprayWindows(facts: BatchFacts) {
  const failures = facts.authFailures.filter((f) => GUESSING_SQLSTATES.includes(f.sqlstate));
  return windowsOf(failures, (f) => ({ server: f.server, key: f.clientAddr }), (f) => f.at);
}

/** A user's last login in the batch: failures before any of its logins in the window are counted. */
function loginWindows(facts: BatchFacts) {
  return facts.loginsByUser().map((g) => ({ ...g, server: g.last.server, key: g.userName, at: g.last.at }));
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
  spans: (facts, config) => [spanOf('auth_failures', bruteForceWindows(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const findings: Finding[] = [];
    const windows = bruteForceWindows(facts);
    const span = spanOf('auth_failures', windows, config.windowMinutes);
    if (span === null) return findings;
    const inWindows = rowsInWindows(stored.rows(span), windows, { keyOf: byUser, where: PASSWORD_FAILURE, minutes: config.windowMinutes });
    for (const [k, { server, key: userName, at, facts: group }] of windows.entries()) {
      const row = failuresOfUser(inWindows[k]!);
      const n = row.n;
      if (n < config.threshold) continue;
      findings.push({
        server,
        at,
        firstAt: row.first!,
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
  spans: (facts, config) => [spanOf('auth_failures', sprayWindows(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const findings: Finding[] = [];
    const windows = sprayWindows(facts);
    const span = spanOf('auth_failures', windows, config.windowMinutes);
    if (span === null) return findings;
    const inWindows = rowsInWindows(stored.rows(span), windows, { keyOf: byHost, where: GUESSING_FAILURE, minutes: config.windowMinutes });
    for (const [k, { server, key: clientAddr, at, facts: group }] of windows.entries()) {
      const row = failuresFromHost(inWindows[k]!);
      const users = row.users;
      if (users < config.distinctUsers) continue;
      findings.push({
        server,
        at,
        firstAt: row.first!,
        actor: null,
        target: clientAddr,
        dedupKey: clientAddr,
        count: row.n,
        increment: group.length,
        summary: `failed logins for ${users} different users from ${hostPhrase(clientAddr)} within ${config.windowMinutes} minutes`,
        evidence: { clientAddr, users: row.names, failuresInWindow: row.n, lastFailure: at.toISOString() },
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
  spans: (facts, config) => [spanOf('auth_failures', loginWindows(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const findings: Finding[] = [];
    const logins = loginWindows(facts);
    const span = spanOf('auth_failures', logins, config.windowMinutes);
    if (span === null) return findings;
    const inWindows = rowsInWindows(stored.rows(span), logins, { keyOf: byUser, where: PASSWORD_FAILURE, minutes: config.windowMinutes });
    for (const [k, { userName: user, last: login }] of logins.entries()) {
      const row = failuresOfUser(inWindows[k]!);
      const n = row.n;
      if (n < config.minFailures) continue;
      findings.push({
        server: login.server,
        at: login.at,
        firstAt: row.first!,
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
