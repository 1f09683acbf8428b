/** Role lifecycle: login roles created, roles that live only minutes, logins of long-dormant roles. */
import { z } from 'zod';
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQueryOverRows } from '../../query/run-query.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import type { BatchFacts, ChangeFact, LoginFact } from '../batch-facts.js';
import { isRoleLife, type StoredPrivilegeChange, type StoredSpan } from '../stored-windows.js';
import type { HandedLogins } from '../handed-logins.js';
import type { LastLogins, LoginAsked } from '../last-logins.js';
import { pairKey, sessionKey } from '../../contracts/session-key.js';
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
    const byStatement = changesByStatement(facts.changes);
    for (const fact of facts.changes) {
      const c = fact.change;
      if (c.action !== 'create-role' || (c.actor !== null && config.allowActors.includes(c.actor))) continue;
      const sameStatement = byStatement.get(statementKey(fact))!;
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

/** What ties the changes of one CREATE ROLE statement together: its session, text, role and time. */
function statementKey({ change: c }: ChangeFact): string {
  return JSON.stringify([c.sessionId, c.statement, c.roleName, c.loggedAt.getTime()]);
}

/** The batch's changes by statement (`statementKey`), in batch order: one pass, not one a CREATE ROLE. */
function changesByStatement(changes: readonly ChangeFact[]): Map<string, ChangeFact[]> {
  const out = new Map<string, ChangeFact[]>();
  for (const fact of changes) {
    const key = statementKey(fact);
    const same = out.get(key);
    if (same) same.push(fact);
    else out.set(key, [fact]);
  }
  return out;
}

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

/**
 * The span of `role_lives` a batch's CREATEs and DROPs need: CREATEs up to `minutes` before each drop, and
 * for each CREATE, drops up to `minutes` after it and the CREATEs before those drops; of their roles only (every
 * short life `newShortLives` finds is of a role the batch creates or drops).
 */
function lifeSpan(facts: BatchFacts, minutes: number): StoredSpan<'role_lives'> | null {
  const w = Math.round(minutes * 60_000) * 1000;
  let from = Infinity;
  let to = -Infinity;
  const roles = new Set<string>();
  for (const { change: c } of facts.changes) {
    if (!isRoleLife(c)) continue;
    const at = c.loggedAt.getTime() * 1000;
    from = Math.min(from, at - w - 1);
    to = Math.max(to, c.action === 'create-role' ? at + w : at);
    roles.add(c.roleName!);
  }
  return from === Infinity ? null : { table: 'role_lives', fromMicros: from, toMicros: to, keys: [...roles] };
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
    if (!isRoleLife(c)) continue;
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

/** The batch's logins of users, each at its session's start (as `sessions` stores it, where a later batch finds it). */
function loginsOfUsers(facts: BatchFacts): { user: string; login: LoginFact; at: Date }[] {
  return facts.logins.flatMap((login) => (login.session.userName === null ? [] : [{ user: login.session.userName, login, at: login.session.startedAt ?? login.at }]));
}

/** A login as the rule judges it: at its session's start, with what the alert's evidence shows of it. */
interface JudgedLogin {
  server: string;
  user: string;
  sessionId: string;
  at: Date;
  clientAddr: string | null;
  databaseName: string | null;
  applicationName: string | null;
}

/** Each role's creation as `roles` holds it, for the logins asked (null: not created in the trail). */
async function creationsOf(connection: DuckDBConnection, logins: readonly { server: string; user: string }[]): Promise<(string | null)[]> {
  const rows = await runQueryOverRows(
    connection,
    { w_server: 'VARCHAR', w_user: 'VARCHAR' },
    logins.map((l) => ({ w_server: l.server, w_user: l.user })),
    (list) => `SELECT (SELECT r.created_at FROM roles r WHERE r.server = w.w_server AND r.rolname = w.w_user) AS created_at
       FROM ${list} w ORDER BY w.i`,
  );
  return rows.map((r) => (r.created_at === null || r.created_at === undefined ? null : String(r.created_at)));
}

function dormantFinding(login: JudgedLogin, previousLogin: string | null, createdAt: string | null, idleDays: number): Finding {
  return {
    server: login.server,
    at: login.at,
    actor: login.user,
    target: login.user,
    dedupKey: login.user,
    summary: `${login.user} logged in after ${Math.floor(idleDays)} days without a login${previousLogin === null ? ' since its creation' : ''}`,
    evidence: {
      sessionId: login.sessionId,
      loggedAt: login.at.toISOString(),
      previousLogin,
      createdAt,
      clientAddr: login.clientAddr,
      database: login.databaseName,
      application: login.applicationName,
    },
  };
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
  // Defined on the set of logins, each at its session's start: one stored late, before a login already called
  // dormant, is that login's previous one; when it is less than `dormantDays` older, the later login's alert no
  // longer holds. Strictly after: a login read twice does not disprove its own alert. Only a login some stored one
  // follows can (the usual login, later than every stored one, costs no look-up).
  disproves: (facts, config, lastLogins) =>
    loginsOfUsers(facts)
      .filter(({ user, login, at }) => lastLogins.mayBeFollowed(login.server, user, at.getTime() * 1000))
      .map(({ user, login, at }) => ({ server: login.server, dedupKey: user, after: at, before: new Date(at.getTime() + config.dormantDays * DAY_MS) })),
  async evaluate({ connection, facts, config, lastLogins, handedLogins }) {
    // Every login of the batch: its previous login may be an earlier one of the same batch, or a stored one.
    const logins = loginsOfUsers(facts);
    // Asked every batch, logins or not: its sessions move the users' last logins.
    const lastLogin = await lastLogins.previous(
      connection,
      facts.batch.mergedSessions,
      logins.map(({ user, login, at }) => ({ server: login.server, user, sessionId: login.sessionId, at })),
    );
    const judged: { login: JudgedLogin; previous: string | null; followed?: true }[] = logins.map(({ user, login, at }, k) => {
      // The store holds the logins it stored; a hub's last leader handed over those its own store holds.
      const handed = handedLogins.before(login.server, user, at.getTime(), login.sessionId);
      const stored = lastLogin[k] ?? null;
      const previous = handed !== null && (stored === null || handed.getTime() > Date.parse(stored)) ? handed.toISOString() : stored;
      const { clientAddr, databaseName, applicationName } = login.session;
      return { login: { server: login.server, user, sessionId: login.sessionId, at, clientAddr, databaseName, applicationName }, previous };
    });
    // Roles the batch created: a stored login of one, without an earlier login, is dormant since the creation.
    const created = facts.changes.flatMap(({ change: c }) => (c.action === 'create-role' && c.roleName !== null ? [{ server: c.server, user: c.roleName, at: c.loggedAt }] : []));
    judged.push(...(await followedLogins(connection, lastLogins, handedLogins, logins, created)));
    const idle = (since: string, at: Date) => (at.getTime() - Date.parse(since)) / DAY_MS;
    // The role's creation is read only where it counts: no earlier login, or a finding's evidence.
    const needCreation = judged.flatMap((j, k) => (j.previous === null || idle(j.previous, j.login.at) >= config.dormantDays ? [k] : []));
    const creations = await creationsOf(connection, needCreation.map((k) => judged[k]!.login));
    const createdAt = new Map(needCreation.map((k, n) => [k, creations[n]!]));
    const findings: Finding[] = [];
    const createdHere = new Set(created.map((c) => pairKey(c.server, c.user)));
    judged.forEach(({ login, previous, followed }, k) => {
      const created = createdAt.get(k) ?? null;
      // A followed login already dormant by a creation stored before this batch was raised then.
      if (followed && created !== null && idle(created, login.at) >= config.dormantDays && !createdHere.has(pairKey(login.server, login.user))) return;
      const since = previous ?? created;
      if (since === null) return;
      const idleDays = idle(since, login.at);
      if (idleDays >= config.dormantDays) findings.push(dormantFinding(login, previous, created, idleDays));
    });
    return findings;
  },
});

/**
 * The stored logins the batch changed the judgement of: a user's earliest stored login of another session, later
 * than one of the batch's logins or than the role's creation in the batch, had no previous login (nor one handed
 * over): it was judged by the role's creation, or not at all. Judged again (`followed`) with the batch's latest
 * login before it, or without one (by the creation); one already dormant by a creation stored before keeps its
 * alert (or `disproves` retracted it), so it is not raised again.
 */
async function followedLogins(
  connection: DuckDBConnection,
  lastLogins: LastLogins,
  handedLogins: Pick<HandedLogins, 'before'>,
  logins: readonly { user: string; login: LoginFact; at: Date }[],
  created: readonly { server: string; user: string; at: Date }[],
): Promise<{ login: JudgedLogin; previous: string | null; followed: true }[]> {
  const earliest = new Map<string, LoginAsked>();
  for (const e of [...logins.map(({ user, login, at }) => ({ server: login.server, user, sessionId: login.sessionId, at })), ...created.map((c) => ({ ...c, sessionId: '' }))]) {
    const k = pairKey(e.server, e.user);
    const known = earliest.get(k);
    if (!known || e.at < known.at) earliest.set(k, e);
  }
  const asked = [...earliest.values()];
  const batchSessions = new Set(logins.map(({ login }) => sessionKey(login.server, login.sessionId)));
  const next = await lastLogins.firstStoredAfter(connection, asked, batchSessions);
  const out: { login: JudgedLogin; previous: string | null; followed: true }[] = [];
  next.forEach((stored) => {
    if (stored === null) return;
    const atMs = Math.trunc(stored.micros / 1000);
    if (handedLogins.before(stored.server, stored.user, atMs, stored.sessionId) !== null) return;
    let previous = -Infinity;
    for (const { user, login, at } of logins) {
      if (login.server === stored.server && user === stored.user && at.getTime() < atMs) previous = Math.max(previous, at.getTime());
    }
    const { server, user, sessionId, clientAddr, databaseName, applicationName } = stored;
    const judged = { server, user, sessionId, at: new Date(atMs), clientAddr, databaseName, applicationName };
    out.push({ login: judged, previous: previous === -Infinity ? null : new Date(previous).toISOString(), followed: true });
  });
  return out;
}
