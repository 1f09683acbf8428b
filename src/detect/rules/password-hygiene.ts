/** Passwords: changed by someone else, removed, never expiring, visible in clear, md5, not rotated. */
import { z } from 'zod';
import { runQuery } from '../../query/run-query.js';
import type { ChangeFact } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeFinding, entryEvidence } from './change-evidence.js';

/** The CREATE ROLE that set a role's first password is not a password change by someone else. */
function createdInSameStatement(fact: ChangeFact, all: readonly ChangeFact[]): boolean {
  const c = fact.change;
  return all.some((o) => o.change.action === 'create-role' && o.change.roleName === c.roleName && o.change.sessionId === c.sessionId && o.change.statement === c.statement);
}

export const passwordSetByOther = defineRule({
  id: 'password-set-by-other',
  title: "Role's password changed by another role",
  severity: 'medium',
  mitre: 'T1098 Account Manipulation',
  trigger: 'ALTER ROLE x PASSWORD … run by a session user other than x (a role creating another with a password does not count)',
  description: 'Taking over an account by resetting its password. Password resets by a help desk or automation go in `allowActors`.',
  config: baseRuleConfig.extend({
    allowActors: z.array(z.string()).default([]).describe('users expected to reset other roles\' passwords'),
  }),
  evaluate({ facts, config }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (c.action !== 'set-password' || c.actor === null || c.roleName === null || c.roleName === c.actor) return [];
      if (config.allowActors.includes(c.actor) || createdInSameStatement(fact, facts.changes)) return [];
      return [changeFinding(fact, { target: c.roleName, dedupKey: c.roleName, summary: `${c.actor} changed the password of ${c.roleName}` })];
    });
  },
});

export const passwordRemoved = defineRule({
  id: 'password-removed',
  title: 'Password removed from a role',
  severity: 'medium',
  mitre: 'T1098 Account Manipulation',
  trigger: 'ALTER ROLE … PASSWORD NULL',
  description: 'A role without a password can still log in wherever pg_hba.conf trusts it (or through another auth method).',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (c.action !== 'remove-password') return [];
      return [changeFinding(fact, { target: c.roleName, dedupKey: c.roleName ?? '', summary: `${actorName(c.actor)} removed the password of ${c.roleName}` })];
    });
  },
});

export const passwordNeverExpires = defineRule({
  id: 'password-never-expires',
  title: 'Password set to never expire',
  severity: 'low',
  mitre: 'T1098 Account Manipulation',
  trigger: "VALID UNTIL 'infinity' on a role",
  description: 'Removes the expiry that forces rotation; common in persistence and in bad hygiene alike.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (c.action !== 'set-attribute' || c.attribute !== 'rolvaliduntil' || c.value?.toLowerCase() !== 'infinity') return [];
      return [changeFinding(fact, { target: c.roleName, dedupKey: c.roleName ?? '', summary: `${actorName(c.actor)} set the password of ${c.roleName} to never expire` })];
    });
  },
});

export const passwordInClear = defineRule({
  id: 'password-in-clear',
  title: 'Password visible in clear in the logs',
  severity: 'high',
  mitre: 'T1552.001 Unsecured Credentials: Credentials In Files',
  trigger: 'a password literal in any log line: log_statement output, an ERROR statement, a DO block or function body, a bind parameter, a conninfo string',
  description:
    'The server log (and Log Analytics, Event Hubs, storage) holds the password: rotate it. auditduck stored it redacted; the evidence says where and how long it was, never the text.',
  config: baseRuleConfig,
  readsEntry: (entry) => entry.kind === 'audit' && entry.secrets.length > 0,
  evaluate({ facts }) {
    const findings: Finding[] = [];
    for (const fact of facts.entries) {
      const { entry } = fact;
      if (entry.kind === 'session' || entry.kind === 'auth-failure' || entry.secrets.length === 0) continue;
      const r = entry.record;
      findings.push({
        server: r.server,
        at: r.loggedAt,
        actor: fact.who.userName,
        target: r.sessionId,
        dedupKey: r.sessionId ?? r.source,
        count: entry.secrets.length,
        summary: `${entry.secrets.length} password literal(s) logged in clear in a ${entry.kind === 'statement' ? 'logged statement' : entry.kind === 'audit' ? 'pgaudit entry' : `${r.level} line`} of ${actorName(fact.who.userName)}`,
        evidence: entryEvidence(fact, {
          secrets: entry.secrets.map((s) => ({ kind: s.kind, length: s.length, isMd5Hash: s.isMd5Hash, isScramVerifier: s.isScramVerifier })),
        }),
      });
    }
    return findings;
  },
});

export const md5Password = defineRule({
  id: 'md5-password',
  title: 'md5 used instead of SCRAM',
  severity: 'medium',
  mitre: 'T1556 Modify Authentication Process',
  trigger: "password_encryption set to md5, a password given as an md5 hash, or a login authenticated with method=md5",
  description: 'md5 hashes are replayable and cheap to crack; PostgreSQL deprecates them (Azure guidance: SCRAM-SHA-256).',
  config: baseRuleConfig,
  evaluate({ facts }) {
    const findings: Finding[] = [];
    for (const fact of facts.changes) {
      const c = fact.change;
      if (c.action === 'set-parameter' && c.attribute?.toLowerCase() === 'password_encryption' && c.value?.toLowerCase() === 'md5') {
        findings.push(changeFinding(fact, { target: `password_encryption@${c.objectType}`, dedupKey: `setting|${c.objectType}|${c.roleName ?? c.objectName ?? ''}`, summary: `${actorName(c.actor)} set password_encryption = md5 (${c.objectType})` }));
      } else if (c.action === 'set-password' && c.value === 'md5') {
        findings.push(changeFinding(fact, { target: c.roleName, dedupKey: `hash|${c.roleName}`, summary: `${actorName(c.actor)} gave ${c.roleName} an md5-hashed password` }));
      }
    }
    for (const login of facts.logins) {
      if (login.session.authMethod?.toLowerCase() !== 'md5') continue;
      const user = login.session.userName;
      findings.push({
        server: login.server,
        at: login.at,
        actor: user,
        target: user,
        dedupKey: `login|${user}`,
        summary: `${user} authenticated with md5`,
        evidence: { sessionId: login.sessionId, loggedAt: login.at.toISOString(), clientAddr: login.session.clientAddr, database: login.session.databaseName, authMethod: login.session.authMethod },
      });
    }
    return findings;
  },
});

export const passwordNotRotated = defineRule({
  id: 'password-not-rotated',
  title: 'Password not rotated',
  severity: 'low',
  mitre: 'T1078 Valid Accounts',
  trigger: 'scheduled: a login role with a password last set (or created) more than `maxAgeDays` days ago, per the rebuilt `roles`',
  description: 'Azure guidance: rotate passwords periodically. Roles whose password history the trail does not show are skipped.',
  config: baseRuleConfig.extend({
    maxAgeDays: z.number().positive().default(90).describe('days after which a password counts as not rotated'),
    suppressMinutes: z.number().positive().default(7 * 24 * 60).describe('repeat the alert for a role at most this often'),
  }),
  async scheduled({ connection, now, config }) {
    const stale = await runQuery(
      connection,
      `SELECT server, rolname, coalesce(password_changed_at, created_at) AS set_at FROM roles
       WHERE rolcanlogin AND has_password AND coalesce(password_changed_at, created_at) < $cutoff::TIMESTAMPTZ
       ORDER BY server, rolname`,
      { cutoff: new Date(now.getTime() - config.maxAgeDays * 86_400_000).toISOString() },
    );
    return stale.rows.map((row) => {
      const days = Math.floor((now.getTime() - Date.parse(String(row.set_at))) / 86_400_000);
      return {
        server: String(row.server),
        at: now,
        actor: null,
        target: String(row.rolname),
        dedupKey: String(row.rolname),
        summary: `the password of ${String(row.rolname)} was last set ${days} days ago`,
        evidence: { passwordSetAt: row.set_at, ageDays: days, maxAgeDays: config.maxAgeDays },
      };
    });
  },
});
