/** Role lifecycle: login roles created, roles that live only minutes, logins of long-dormant roles. */
import { z } from 'zod';
import { runQueryOverValues } from '../../query/run-query.js';
import { sqlString } from '../../store/sql-literal.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import type { BatchFacts } from '../batch-facts.js';
import type { StoredPrivilegeChange, StoredSpan } from '../stored-windows.js';
import { actorName, changeFinding, changeRef } from './change-evidence.js';

const DAY_MS = 86_400_000;

export const loginRoleCreated = defineRule({
  id: 'login-role-created',
  title: 'Login role created',
  severity: 'medium',
  mitre: 'T1136.001 Create Account: Local Account',
  trigger: 'CREATE USER, or CREATE ROLE … LOGIN (with or without a password)',
  description: 'A new account that can connect: the usual way to keep access after a compromise.',
  config: baseRuleConfig.extend({
    allowActors: z.array(z.string()).default([]).describe('users whose role creations are expected (provisioning automation)'),
  }),
  evaluate({ facts, config }) {
    const findings: Finding[] = [];
    for (const fact of facts.changes) {
      const c = fact.change;
      if (c.action !== 'create-role' || (c.actor !== null && config.allowActors.includes(c.actor))) continue;
      const sameStatement = facts.changes.filter(
        (o) => o.change.sessionId === c.sessionId && o.change.statement === c.statement && o.change.roleName === c.roleName && o.change.loggedAt.getTime() === c.loggedAt.getTime(),
      );
      const login = c.value === 'USER' || sameStatement.some((o) => o.change.attribute === 'rolcanlogin' && o.change.value === 'true');
      if (!login) continue;
      const password = sameStatement.find((o) => o.change.action === 'set-password')?.change.value ?? null;
      const finding = changeFinding(fact, {
        target: c.roleName,
        dedupKey: c.roleName ?? '',
        summary: `${actorName(c.actor)} created login role ${c.roleName}${password ? ' with a password' : ' without a password'}`,
      });
      finding.evidence.password = password;
      finding.changes = sameStatement.map(changeRef);
      findings.push(finding);
    }
    return findings;
  },
});

export const roleCreatedAndDropped = defineRule({
  id: 'role-created-and-dropped',
  title: 'Role created and dropped within minutes',
  severity: 'high',
  mitre: 'T1136 Create Account',
  trigger: 'DROP ROLE of a role whose CREATE ROLE took effect less than `windowMinutes` earlier',
  description: 'A short-lived role is how a temporary backdoor covers its tracks; normal roles outlive a change window.',
  config: baseRuleConfig.extend({
    windowMinutes: z.number().positive().default(60).describe('created and dropped within this many minutes'),
  }),
  spans: (facts, config) => [dropSpan(droppedRoles(facts), config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const findings: Finding[] = [];
    const drops = droppedRoles(facts);
    const span = dropSpan(drops, config.windowMinutes);
    if (span === null) return findings;
    const creates = stored.rows(span).filter((r) => r.action === 'create-role' && r.effective);
    for (const fact of drops) {
      const c = fact.change;
      if (c.roleName === null) continue;
      const row = latestCreate(creates, c.server, c.roleName, c.loggedAt.getTime(), config.windowMinutes);
      if (row === null) continue;
      const minutes = Math.round((c.loggedAt.getTime() - Date.parse(row.created_at)) / 60_000);
      const finding = changeFinding(fact, {
        target: c.roleName,
        firstAt: new Date(row.created_at),
        dedupKey: c.roleName,
        summary: `role ${c.roleName} was created by ${actorName(row.created_by === null ? null : String(row.created_by))} and dropped by ${actorName(c.actor)} ${minutes} minutes later`,
      });
      finding.evidence.createdAt = row.created_at;
      finding.evidence.createdBy = row.created_by;
      findings.push(finding);
    }
    return findings;
  },
});

/**
 * The latest effective CREATE of `role` on `server` within `minutes` before (inclusive) a drop at `dropMs`, and
 * who made the latest one that names its maker (`arg_max` skips NULLs); null when there is none.
 */
export function latestCreate(
  creates: readonly StoredPrivilegeChange[],
  server: string,
  role: string,
  dropMs: number,
  minutes: number,
): { created_at: string; created_by: string | null } | null {
  const to = dropMs * 1000;
  const from = (dropMs - Math.round(minutes * 60_000)) * 1000;
  let at = -Infinity;
  let by: { at: number; actor: string } | null = null;
  for (const r of creates) {
    if (r.action !== 'create-role' || !r.effective || r.server !== server || r.roleName !== role || r.atMicros < from || r.atMicros > to) continue;
    at = Math.max(at, r.atMicros);
    if (r.actor !== null && (by === null || r.atMicros > by.at)) by = { at: r.atMicros, actor: r.actor };
  }
  return at === -Infinity ? null : { created_at: new Date(Math.trunc(at / 1000)).toISOString(), created_by: by?.actor ?? null };
}

/** DROP ROLEs of the batch that name their role. */
function droppedRoles(facts: BatchFacts) {
  return facts.changes.filter((f) => f.change.action === 'drop-role' && f.change.roleName !== null);
}

/** The span of `privilege_changes` holding every CREATE within `minutes` before (inclusive) one of the drops. */
function dropSpan(drops: ReturnType<typeof droppedRoles>, minutes: number): StoredSpan<'privilege_changes'> | null {
  if (drops.length === 0) return null;
  const times = drops.map((f) => f.change.loggedAt.getTime());
  return { table: 'privilege_changes', fromMicros: (Math.min(...times) - Math.round(minutes * 60_000)) * 1000 - 1, toMicros: Math.max(...times) * 1000 };
}

export const dormantRoleLogin = defineRule({
  id: 'dormant-role-login',
  title: 'Role logged in after a long dormancy',
  severity: 'medium',
  mitre: 'T1078 Valid Accounts',
  trigger: 'a login of a role whose previous login (or, without one, its creation) is more than `dormantDays` days earlier in the trail',
  description: 'Forgotten accounts are the valid credentials attackers reuse. Roles with no history in the trail do not fire.',
  config: baseRuleConfig.extend({
    dormantDays: z.number().positive().default(30).describe('days without a login that make a role dormant'),
  }),
  async evaluate({ connection, facts, config, lastLogins }) {
    const findings: Finding[] = [];
    // Only a user's first login in the batch can follow a dormancy: the later ones follow it.
    const logins = facts.loginsByUser().map(({ userName, first }) => ({ user: userName, login: first, at: first.session.startedAt ?? first.at }));
    // Asked every batch, logins or not: its sessions move the users' last logins.
    const lastLogin = await lastLogins.previous(
      connection,
      facts.batch.mergedSessions,
      logins.map(({ user, login, at }) => ({ server: login.server, user, sessionId: login.sessionId, at })),
    );
    // The role's creation is read only where it counts: no earlier login, or a finding's evidence.
    const idle = (since: string, at: Date) => (at.getTime() - Date.parse(since)) / DAY_MS;
    const needCreation = logins.flatMap((l, k) => (lastLogin[k] === null || idle(lastLogin[k]!, l.at) >= config.dormantDays ? [k] : []));
    const creations = await runQueryOverValues(
      connection,
      needCreation.map((k) => `${sqlString(logins[k]!.login.server)}, ${sqlString(logins[k]!.user)}`),
      (list) => `SELECT (SELECT r.created_at FROM roles r WHERE r.server = w.w_server AND r.rolname = w.w_user) AS created_at
         FROM ${list} w(i, w_server, w_user) ORDER BY w.i`,
    );
    const createdAt = new Map(needCreation.map((k, n) => [k, creations[n]!.created_at ?? null]));
    const previous = logins.map((_, k) => ({ last_login: lastLogin[k]!, created_at: createdAt.get(k) ?? null }));
    for (const [k, { user, login, at }] of logins.entries()) {
      const row = previous[k]!;
      const since = row.last_login ?? row.created_at;
      if (since === null || since === undefined) continue;
      const idleDays = (at.getTime() - Date.parse(String(since))) / DAY_MS;
      if (idleDays < config.dormantDays) continue;
      findings.push({
        server: login.server,
        at: login.at,
        actor: user,
        target: user,
        dedupKey: user,
        summary: `${user} logged in after ${Math.floor(idleDays)} days without a login${row.last_login === null ? ' since its creation' : ''}`,
        evidence: {
          sessionId: login.sessionId,
          loggedAt: login.at.toISOString(),
          previousLogin: row.last_login,
          createdAt: row.created_at,
          clientAddr: login.session.clientAddr,
          database: login.session.databaseName,
          application: login.session.applicationName,
        },
      });
    }
    return findings;
  },
});
