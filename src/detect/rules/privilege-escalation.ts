/** Privilege escalation: admin-equivalent attributes or roles granted, self-grants, grants to PUBLIC. */
import { z } from 'zod';
import { baseRuleConfig, defineRule, type Severity } from '../rule.js';
import { actorName, changeFinding } from './change-evidence.js';

/** Role attributes that make a role admin-equivalent, and how bad each one is. */
const ADMIN_ATTRIBUTES: Readonly<Record<string, { label: string; severity: Severity }>> = {
  rolsuper: { label: 'SUPERUSER', severity: 'critical' },
  rolcreaterole: { label: 'CREATEROLE', severity: 'high' },
  rolbypassrls: { label: 'BYPASSRLS', severity: 'high' },
  rolreplication: { label: 'REPLICATION', severity: 'high' },
};

/** Azure's highest customer role and the predefined roles that read, write or run anything on the server. */
const DEFAULT_ADMIN_ROLES = [
  'azure_pg_admin',
  'pg_read_all_data',
  'pg_write_all_data',
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_signal_backend',
  'pg_create_subscription',
  'pg_checkpoint',
  'pg_database_owner',
];

export const adminGranted = defineRule({
  id: 'admin-granted',
  title: 'Superuser or admin-equivalent privilege granted',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: 'SUPERUSER (critical), CREATEROLE, BYPASSRLS or REPLICATION set on a role, or membership granted in azure_pg_admin or a powerful pg_* predefined role',
  description:
    'A role gained power over the whole server: the attribute or membership an attacker adds to keep access. Rolled-back changes retract the alert.',
  config: baseRuleConfig.extend({
    adminRoles: z.array(z.string()).default(DEFAULT_ADMIN_ROLES).describe('memberships that count as admin-equivalent'),
    allowGrantees: z.array(z.string()).default([]).describe('roles that may receive these (e.g. a break-glass account)'),
  }),
  evaluate({ facts, config }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (c.action === 'set-attribute' && c.attribute !== null && c.value === 'true' && ADMIN_ATTRIBUTES[c.attribute]) {
        if (c.roleName !== null && config.allowGrantees.includes(c.roleName)) return [];
        const { label, severity } = ADMIN_ATTRIBUTES[c.attribute]!;
        return [changeFinding(fact, { target: c.roleName, severity, dedupKey: `${c.roleName}|${label}`, summary: `${actorName(c.actor)} made role ${c.roleName} ${label}` })];
      }
      if (c.action === 'grant-role' && c.grantedRole !== null && config.adminRoles.includes(c.grantedRole)) {
        const member = c.grantee ?? c.roleName;
        if (member !== null && config.allowGrantees.includes(member)) return [];
        return [changeFinding(fact, { target: member, dedupKey: `${member}|${c.grantedRole}`, summary: `${actorName(c.actor)} granted ${c.grantedRole} to ${member}` })];
      }
      return [];
    });
  },
});

export const selfGrant = defineRule({
  id: 'self-grant',
  title: 'Role granted privileges or membership to itself',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: 'GRANT of a role or of object privileges whose grantee is the session user or the current role',
  description: 'A user widening its own access: legitimate changes are made by an administrator for someone else.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if (c.action !== 'grant-role' && c.action !== 'grant') return [];
      const grantee = c.grantee ?? c.roleName;
      const self = grantee !== null && (grantee === c.actor || grantee === c.actingRole);
      if (!self) return [];
      const what = c.action === 'grant-role' ? `membership in ${c.grantedRole}` : `${(c.privileges ?? []).join(', ')} on ${c.objectType} ${c.objectName}`;
      return [changeFinding(fact, { target: grantee, dedupKey: grantee!, summary: `${grantee} granted itself ${what}` })];
    });
  },
});

export const grantToPublic = defineRule({
  id: 'grant-to-public',
  title: 'Privileges granted to PUBLIC',
  severity: 'medium',
  mitre: 'T1098 Account Manipulation',
  trigger: 'GRANT … TO PUBLIC or ALTER DEFAULT PRIVILEGES … TO PUBLIC (every role, present and future, gets it)',
  description: 'PUBLIC includes every role that exists or will exist, so one grant opens an object to all logins.',
  config: baseRuleConfig.extend({
    allowObjects: z.array(z.string()).default([]).describe('`object_type:object_name` pairs that may be granted to PUBLIC, e.g. `schema:public`'),
  }),
  evaluate({ facts, config }) {
    return facts.changes.flatMap((fact) => {
      const c = fact.change;
      if ((c.action !== 'grant' && c.action !== 'default-grant') || c.grantee?.toUpperCase() !== 'PUBLIC') return [];
      if (config.allowObjects.includes(`${c.objectType}:${c.objectName}`)) return [];
      const object = c.objectName === null ? `${c.objectType}s by default` : `${c.objectType} ${c.objectName}`;
      return [changeFinding(fact, { target: object, dedupKey: `${c.objectType}:${c.objectName}`, summary: `${actorName(c.actor)} granted ${(c.privileges ?? []).join(', ')} on ${object} to PUBLIC` })];
    });
  },
});
