/**
 * The options CREATE ROLE and ALTER ROLE share (attributes, password, memberships) → changes of one role.
 * `action` -1 is ALTER GROUP … DROP USER.
 */
import type { Node, DefElem } from 'libpg-query';
import type { PrivilegeAction } from '../privilege-change.js';
import { passwordStrength } from '../password-strength.js';
import { change, type StatementEvent } from './statement-event.js';
import { boolArg, intArg, listItems, nodeRoleSpec, roleName, stringArg } from './parse-tree.js';

const booleanAttributes: Record<string, string> = {
  superuser: 'rolsuper',
  createrole: 'rolcreaterole',
  createdb: 'rolcreatedb',
  canlogin: 'rolcanlogin',
  inherit: 'rolinherit',
  isreplication: 'rolreplication',
  bypassrls: 'rolbypassrls',
};

/** Every attribute a CREATE/ALTER ROLE option can set: what a truncated tail may have changed. */
export const roleAttributes = [
  'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolcanlogin', 'rolreplication', 'rolconnlimit',
  'rolvaliduntil', 'rolbypassrls', 'has_password',
] as const;

export function roleOptions(role: string | null, options: Node[] | undefined, action: number, truncated: boolean): StatementEvent[] {
  const out: StatementEvent[] = [];
  for (const o of options ?? []) {
    if (!('DefElem' in o)) continue;
    const d = o.DefElem;
    const name = d.defname ?? '';
    const bool = booleanAttributes[name];
    if (bool) {
      out.push(change({ action: 'set-attribute', roleName: role, attribute: bool, value: String(boolArg(d) ?? true), truncated }));
    } else if (name === 'connectionlimit') {
      out.push(change({ action: 'set-attribute', roleName: role, attribute: 'rolconnlimit', value: String(intArg(d)), truncated }));
    } else if (name === 'validUntil') {
      out.push(change({ action: 'set-attribute', roleName: role, attribute: 'rolvaliduntil', value: stringArg(d), truncated }));
    } else if (name === 'password') {
      out.push(passwordChange(role, d, truncated));
    } else if (name === 'addroleto') {
      for (const r of listItems(d.arg)) {
        out.push(change({ action: 'grant-role', roleName: role, grantedRole: roleName(nodeRoleSpec(r)), grantee: role, withOption: false, truncated }));
      }
    } else if (name === 'rolemembers' || name === 'adminmembers') {
      for (const r of listItems(d.arg)) {
        const member = roleName(nodeRoleSpec(r));
        const act: PrivilegeAction = action < 0 ? 'revoke-role' : 'grant-role';
        out.push(change({ action: act, roleName: member, grantedRole: role, grantee: member, withOption: act === 'grant-role' ? name === 'adminmembers' : null, truncated }));
      }
    }
    // sysid: accepted and ignored by PostgreSQL.
  }
  return out;
}

/** The kind of password set (md5, SCRAM, clear, removed), never the literal; for clear text, its strength. */
function passwordChange(role: string | null, d: DefElem, truncated: boolean): StatementEvent {
  const literal = d.arg ? stringArg(d) : null;
  if (literal === null || literal === '') {
    // PASSWORD NULL, and '' which PostgreSQL treats as clearing the password.
    return change({ action: 'remove-password', roleName: role, attribute: 'has_password', value: literal === null ? 'null' : 'empty', truncated });
  }
  const strength = passwordStrength(literal);
  const value = strength.isMd5Hash ? 'md5' : strength.isScramVerifier ? 'scram-sha-256' : 'clear';
  return change({
    action: 'set-password', roleName: role, attribute: 'has_password', value, truncated,
    passwordStrength: value === 'clear' ? strength : null,
  });
}
