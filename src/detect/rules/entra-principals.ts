/**
 * Microsoft Entra principals (docs/azure-identities.md): made admin, re-mapped to another Entra object, created
 * without MFA, given a password. Each reads a role's Entra mapping as it was just before the change from the
 * trail (`privilege_changes` since the role's last CREATE or DROP).
 */
import { z } from 'zod';
import type { ChangeFact } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeFinding } from './change-evidence.js';

function isEntraAttribute(fact: ChangeFact, attribute: string): boolean {
  const c = fact.change;
  return c.action === 'set-attribute' && c.attribute === attribute && c.roleName !== null;
}

/** The principal type said about the role in the same statement (the call, or the label). */
function typeSaid(fact: ChangeFact, all: readonly ChangeFact[]): string | null {
  const c = fact.change;
  const same = all.find((o) => o.change.attribute === 'entra_type' && o.change.roleName === c.roleName && o.change.sessionId === c.sessionId && o.change.statement === c.statement);
  return same?.change.value ?? null;
}

export const entraAdminGranted = defineRule({
  id: 'entra-admin-granted',
  title: 'Entra principal made admin',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: "pgaadauth_create_principal[_with_oid](…, isAdmin => true, …), or a pgaadauth SECURITY LABEL that adds `admin` to a role that was not an Entra admin",
  description: 'An Entra admin can create, map and drop other Entra principals: the Azure equivalent of CREATEROLE over every Entra role.',
  config: baseRuleConfig.extend({
    allowActors: z.array(z.string()).default([]).describe('users expected to make Entra admins (provisioning automation)'),
  }),
  roleAttributes: ['entra_admin'],
  async evaluate({ connection, facts, config, roleAttributes }) {
    const findings: Finding[] = [];
    const made = facts.changes.filter((fact) => {
      const c = fact.change;
      return isEntraAttribute(fact, 'entra_admin') && c.value === 'true' && !(c.actor !== null && config.allowActors.includes(c.actor));
    });
    const before = await roleAttributes.before(connection, made.map((f) => f.change), 'entra_admin');
    for (const [k, fact] of made.entries()) {
      const c = fact.change;
      if (before[k] === 'true') continue;
      const type = typeSaid(fact, facts.changes);
      const finding = changeFinding(fact, {
        target: c.roleName,
        dedupKey: c.roleName!,
        summary: `${actorName(c.actor)} made Entra ${type ?? 'principal'} ${c.roleName} an Entra admin`,
      });
      finding.evidence.entraType = type;
      findings.push(finding);
    }
    return findings;
  },
});

export const entraPrincipalRemapped = defineRule({
  id: 'entra-principal-remapped',
  title: 'Role re-mapped to another Entra object',
  severity: 'critical',
  mitre: 'T1098 Account Manipulation',
  trigger: 'a pgaadauth SECURITY LABEL that gives a role an Entra object id other than the one it had',
  description:
    "Whoever owns the new object id logs in as the role, with all its privileges: an account takeover that needs no password. Azure's own tooling creates a principal once; it does not re-map it.",
  config: baseRuleConfig,
  roleAttributes: ['entra_oid'],
  async evaluate({ connection, facts, roleAttributes }) {
    const findings: Finding[] = [];
    const mapped = facts.changes.filter((fact) => isEntraAttribute(fact, 'entra_oid') && fact.change.value !== null);
    const previous = await roleAttributes.before(connection, mapped.map((f) => f.change), 'entra_oid');
    for (const [k, fact] of mapped.entries()) {
      const c = fact.change;
      const before = previous[k];
      if (before === undefined || before === null || before === c.value) continue;
      const finding = changeFinding(fact, {
        target: c.roleName,
        dedupKey: `${c.roleName}\u0000${c.value}`,
        summary: `${actorName(c.actor)} re-mapped role ${c.roleName} from Entra object ${before} to ${c.value}`,
      });
      finding.evidence.previousObjectId = before;
      finding.evidence.objectId = c.value;
      findings.push(finding);
    }
    return findings;
  },
});

export const entraPrincipalWithoutMfa = defineRule({
  id: 'entra-principal-without-mfa',
  title: 'Entra principal created without MFA',
  severity: 'medium',
  mitre: 'T1556 Modify Authentication Process',
  trigger: 'pgaadauth_create_principal[_with_oid](…, isMfa => false) while `requireMfa` is on (principals of `exemptTypes` do not count)',
  description:
    "With isMfa false the server accepts the principal's tokens without the `mfa` claim: a stolen password alone is enough. Off until the config asks for MFA.",
  config: baseRuleConfig.extend({
    requireMfa: z.boolean().default(false).describe('Entra principals must be created with isMfa = true'),
    exemptTypes: z.array(z.enum(['user', 'group', 'service'])).default(['service']).describe('principal types that cannot do MFA (applications, managed identities)'),
  }),
  evaluate({ facts, config }) {
    if (!config.requireMfa) return [];
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (!isEntraAttribute(fact, 'entra_mfa') || c.value !== 'false') return [];
      const type = typeSaid(fact, facts.changes);
      if (type !== null && (config.exemptTypes as string[]).includes(type)) return [];
      const finding = changeFinding(fact, {
        target: c.roleName,
        dedupKey: c.roleName!,
        summary: `${actorName(c.actor)} created Entra ${type ?? 'principal'} ${c.roleName} without MFA`,
      });
      finding.evidence.entraType = type;
      return [finding];
    });
  },
});

export const passwordOnEntraPrincipal = defineRule({
  id: 'password-on-entra-principal',
  title: 'Password set on an Entra principal',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: 'ALTER ROLE … PASSWORD on a role the trail shows mapped to an Entra object',
  description:
    'An Entra principal logs in with a token; a password is a second way in that bypasses Entra (its sign-in policies, MFA and disabling the account in the tenant).',
  config: baseRuleConfig,
  roleAttributes: ['auth_kind'],
  async evaluate({ connection, facts, roleAttributes }) {
    const findings: Finding[] = [];
    const passwords = facts.changes.filter((fact) => fact.change.action === 'set-password' && fact.change.roleName !== null);
    const authBefore = await roleAttributes.before(connection, passwords.map((f) => f.change), 'auth_kind');
    for (const [k, fact] of passwords.entries()) {
      const c = fact.change;
      if (authBefore[k] !== 'entra') continue;
      findings.push(changeFinding(fact, { target: c.roleName, dedupKey: c.roleName!, summary: `${actorName(c.actor)} set a password on Entra principal ${c.roleName}` }));
    }
    return findings;
  },
});
