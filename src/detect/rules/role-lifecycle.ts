/** Role lifecycle: login roles created, roles that live only minutes, logins of long-dormant roles. */
import { z } from 'zod';
import { runQueryOverValues } from '../../query/run-query.js';
import { sqlString } from '../../store/sql-literal.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import type { BatchFacts, ChangeFact } from '../batch-facts.js';
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
  spans: (facts, config) => [lifeSpan(facts, config.windowMinutes)],
  evaluate({ facts, config, stored }) {
    const span = lifeSpan(facts, config.windowMinutes);
    if (span === null) return [];
    const findings: Finding[] = [];
    // A stored drop by an excluded user is none the rules see (only its actor is known of it, not its database or client).
    const excluded = (actor: string | null) => facts.excluded({ userName: actor });
    for (const { drop, create } of newShortLives(stored.rows(span), facts.changes, config.windowMinutes, excluded)) {
      const minutes = Math.round((drop.atMicros - Date.parse(create.created_at) * 1000) / 60_000_000);
      const role = drop.roleName!;
      const summary = `role ${role} was created by ${actorName(create.created_by)} and dropped by ${actorName(drop.actor)} ${minutes} minutes later`;
      const finding: Finding = drop.fact
        ? changeFinding(drop.fact, { target: role, firstAt: new Date(create.created_at), dedupKey: role, summary })
        : {
            // A drop stored before its CREATE arrived: the stored row is all there is of it.
            server: drop.server, at: new Date(Math.trunc(drop.atMicros / 1000)), firstAt: new Date(create.created_at), actor: drop.actor, target: role, dedupKey: role, summary,
            evidence: { loggedAt: new Date(Math.trunc(drop.atMicros / 1000)).toISOString(), sessionId: drop.sessionId ?? null, actor: drop.actor, action: 'drop-role', roleName: role },
            ...(drop.seq === null || drop.seq === undefined ? {} : { changes: [{ server: drop.server, sessionId: drop.sessionId ?? null, loggedAt: new Date(Math.trunc(drop.atMicros / 1000)), seq: drop.seq }] }),
          };
      finding.evidence.createdAt = create.created_at;
      finding.evidence.createdBy = create.created_by;
      findings.push(finding);
    }
    return findings;
  },
});

/**
 * The latest effective CREATE of `role` on `server` within `minutes` before (inclusive) a drop at `dropMs`, and
 * who made the latest one that names its maker (`arg_max` skips NULLs); null when there is none.
 */
function latestCreate(
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

const isLife = (c: { action: string; roleName: string | null }) => (c.action === 'drop-role' || c.action === 'create-role') && c.roleName !== null;

/**
 * The span of `privilege_changes` a batch's CREATEs and DROPs need: CREATEs up to `minutes` before each drop, and
 * for each CREATE, drops up to `minutes` after it and the CREATEs before those drops.
 */
function lifeSpan(facts: BatchFacts, minutes: number): StoredSpan<'privilege_changes'> | null {
  const w = Math.round(minutes * 60_000) * 1000;
  let from = Infinity;
  let to = -Infinity;
  for (const { change: c } of facts.changes) {
    if (!isLife(c)) continue;
    const at = c.loggedAt.getTime() * 1000;
    from = Math.min(from, at - w - 1);
    to = Math.max(to, c.action === 'create-role' ? at + w : at);
  }
  return from === Infinity ? null : { table: 'privilege_changes', fromMicros: from, toMicros: to };
}

type StoredDrop = StoredPrivilegeChange & { fact?: ChangeFact };

/**
 * The drops a batch made short lives of: its own drops with a CREATE of their role within `minutes` before them,
 * and stored drops that had none before this batch's CREATEs (a DROP stored before its CREATE). A function of the
 * stored rows, so the same whichever comes first.
 */
function newShortLives(
  rows: readonly StoredPrivilegeChange[],
  changes: readonly ChangeFact[],
  minutes: number,
  excluded: (actor: string | null) => boolean,
): { drop: StoredDrop; create: { created_at: string; created_by: string | null } }[] {
  const key = (server: string, role: string | null, at: number) => `${server}\u0000${role}\u0000${at}`;
  const freshCreates = new Map<string, number>();
  const freshDrops = new Map<string, ChangeFact[]>();
  for (const fact of changes) {
    const c = fact.change;
    if (!isLife(c)) continue;
    const k = key(c.server, c.roleName, c.loggedAt.getTime() * 1000);
    if (c.action === 'create-role') freshCreates.set(k, (freshCreates.get(k) ?? 0) + 1);
    else freshDrops.set(k, [...(freshDrops.get(k) ?? []), fact]);
  }
  const creates: StoredPrivilegeChange[] = [];
  const oldCreates: StoredPrivilegeChange[] = [];
  const oldDrops: StoredPrivilegeChange[] = [];
  for (const r of rows) {
    if (!r.effective || r.roleName === null) continue;
    const k = key(r.server, r.roleName, r.atMicros);
    if (r.action === 'create-role') {
      creates.push(r);
      const left = freshCreates.get(k) ?? 0;
      if (left > 0) freshCreates.set(k, left - 1);
      else oldCreates.push(r);
    } else if (r.action === 'drop-role') {
      const mine = freshDrops.get(k);
      if (mine && mine.length > 0) mine.pop();
      else if (!excluded(r.actor)) oldDrops.push(r);
    }
  }
  const out: { drop: StoredDrop; create: { created_at: string; created_by: string | null } }[] = [];
  for (const fact of changes) {
    const c = fact.change;
    if (c.action !== 'drop-role' || c.roleName === null) continue;
    const create = latestCreate(creates, c.server, c.roleName, c.loggedAt.getTime(), minutes);
    if (create !== null) {
      out.push({
        drop: { server: c.server, atMicros: c.loggedAt.getTime() * 1000, actor: c.actor, action: c.action, roleName: c.roleName, objectType: c.objectType, effective: true, fact },
        create,
      });
    }
  }
  if (oldCreates.length === creates.length) return out;
  for (const drop of oldDrops) {
    const dropMs = Math.trunc(drop.atMicros / 1000);
    const create = latestCreate(creates, drop.server, drop.roleName!, dropMs, minutes);
    if (create !== null && latestCreate(oldCreates, drop.server, drop.roleName!, dropMs, minutes) === null) out.push({ drop, create });
  }
  return out;
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
  async evaluate({ connection, facts, config, lastLogins, handedLogins }) {
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
      // The store holds the logins it stored; a hub's last leader handed over those its own store holds.
      const handed = handedLogins.before(login.server, user, at.getTime(), login.sessionId);
      if (handed !== null && (row.last_login === null || row.last_login === undefined || handed.getTime() > Date.parse(String(row.last_login)))) row.last_login = handed.toISOString();
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
