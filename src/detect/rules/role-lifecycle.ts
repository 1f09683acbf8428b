/** Role lifecycle: login roles created, roles that live only minutes, logins of long-dormant roles. */
import { z } from 'zod';
import { runQueryOverValues } from '../../query/run-query.js';
import { sqlString } from '../../store/sql-literal.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    const drops = facts.changes.filter((f) => f.change.action === 'drop-role' && f.change.roleName !== null);
    const created = await runQueryOverValues(
      connection,
      drops.map(({ change: c }) => `${sqlString(c.server)}, ${sqlString(c.roleName!)}, ${sqlString(c.loggedAt.toISOString())}::TIMESTAMPTZ`),
      (list) => `SELECT max(r.logged_at) AS created_at, arg_max(r.actor, r.logged_at) AS created_by
         FROM ${list} w(i, w_server, w_role, w_drop)
         LEFT JOIN privilege_changes r ON r.server = w.w_server AND r.role_name = w.w_role AND r.action = 'create-role' AND r.effective
           AND r.logged_at BETWEEN w.w_drop - to_milliseconds(${config.windowMinutes * 60_000}::BIGINT) AND w.w_drop
         GROUP BY w.i ORDER BY w.i`,
    );
    for (const [k, fact] of drops.entries()) {
      const c = fact.change;
      if (c.roleName === null) continue;
      const row = created[k];
      if (!row || row.created_at === null) continue;
      const minutes = Math.round((c.loggedAt.getTime() - Date.parse(String(row.created_at))) / 60_000);
      const finding = changeFinding(fact, {
        target: c.roleName,
        firstAt: new Date(String(row.created_at)),
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
  async evaluate({ connection, facts, config }) {
    const findings: Finding[] = [];
    // Only a user's first login in the batch can follow a dormancy: the later ones follow it.
    const logins = facts.loginsByUser().map(({ userName, first }) => ({ user: userName, login: first, at: first.session.startedAt ?? first.at }));
    const previous = await runQueryOverValues(
      connection,
      logins.map(({ user, login, at }) => `${sqlString(login.server)}, ${sqlString(user)}, ${sqlString(login.sessionId)}, ${sqlString(at.toISOString())}::TIMESTAMPTZ`),
      (list) => `SELECT (SELECT max(s.started_at) FROM sessions s WHERE s.server = w.w_server AND s.user_name = w.w_user AND s.session_id <> w.w_session
                   AND s.started_at < w.w_at) AS last_login,
                (SELECT r.created_at FROM roles r WHERE r.server = w.w_server AND r.rolname = w.w_user) AS created_at
         FROM ${list} w(i, w_server, w_user, w_session, w_at) ORDER BY w.i`,
    );
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
