/**
 * Microsoft Entra principals on Azure Database for PostgreSQL - Flexible Server (docs/azure-identities.md):
 * roles made by `pgaadauth_create_principal[_with_oid](...)` and mapped to an Entra object by
 * `SECURITY LABEL FOR "pgaadauth" ON ROLE r IS 'aadauth,oid=<id>,type=<user|group|service>[,admin]'`.
 * Pure: parse-tree nodes and label text in, role attribute changes out (the `roles` columns `auth_kind`,
 * `entra_type`, `entra_oid`, `entra_admin`, `entra_mfa`).
 */
import type { Node } from 'libpg-query';
import type { StatementChange } from './privilege-change.js';

/** The label provider Azure registers; `SECURITY LABEL` without FOR uses the only provider loaded. */
export const ENTRA_LABEL_PROVIDER = 'pgaadauth';

/** Does this text call one of the functions that create Entra principals? (Cheap; runs on READ entries.) */
export const ENTRA_CALL = /pgaadauth_create_principal/i;

/** The Entra columns of `roles`, as `set-attribute` attributes. */
export const entraAttributes = ['auth_kind', 'entra_type', 'entra_oid', 'entra_admin', 'entra_mfa'] as const;
export type EntraAttribute = (typeof entraAttributes)[number];

/** `auth_kind` of a role PostgreSQL authenticates itself (password, certificate, ...), not Entra. */
export const POSTGRES_AUTH = 'postgres';
export const ENTRA_AUTH = 'entra';

export type EntraChange = Partial<StatementChange> & Pick<StatementChange, 'action' | 'roleName'>;

export interface EntraLabel {
  objectId: string | null;
  /** `user`, `group` or `service` as the label says; null when it says none. */
  type: string | null;
  admin: boolean;
}

/** `aadauth,oid=…,type=…[,admin]`; null for a label that is not an Entra mapping. */
export function parseEntraLabel(label: string): EntraLabel | null {
  const parts = label.split(',').map((p) => p.trim());
  if (parts[0]?.toLowerCase() !== 'aadauth') return null;
  const out: EntraLabel = { objectId: null, type: null, admin: false };
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === 'oid') out.objectId = value;
    else if (key === 'type') out.type = value.toLowerCase();
    else if (key === 'admin') out.admin = true;
  }
  return out;
}

const attribute = (role: string | null, name: EntraAttribute, value: string | null): EntraChange => ({
  action: 'set-attribute', roleName: role, attribute: name, value,
});

/** What `SECURITY LABEL [FOR pgaadauth] ON ROLE r IS label` changes; nothing for other providers or objects. */
export function entraLabelChanges(stmt: { objtype?: string; object?: Node; provider?: string; label?: string }): EntraChange[] {
  if (stmt.objtype !== 'OBJECT_ROLE' || !stmt.object || !('String' in stmt.object)) return [];
  const role = stmt.object.String.sval ?? null;
  const provider = stmt.provider?.toLowerCase();
  if (stmt.label === undefined || stmt.label === null) {
    // IS NULL removes the mapping: the role is an ordinary PostgreSQL role again.
    if (provider !== undefined && provider !== ENTRA_LABEL_PROVIDER) return [];
    return [
      attribute(role, 'auth_kind', POSTGRES_AUTH), attribute(role, 'entra_type', null), attribute(role, 'entra_oid', null),
      attribute(role, 'entra_admin', null), attribute(role, 'entra_mfa', null),
    ];
  }
  const label = parseEntraLabel(stmt.label);
  if (!label || (provider !== undefined && provider !== ENTRA_LABEL_PROVIDER)) return [];
  return [
    attribute(role, 'auth_kind', ENTRA_AUTH), attribute(role, 'entra_type', label.type), attribute(role, 'entra_oid', label.objectId),
    attribute(role, 'entra_admin', String(label.admin)),
  ];
}

interface FuncCallNode {
  funcname?: Node[];
  args?: Node[];
}

/** Every `pgaadauth_create_principal[_with_oid](...)` call anywhere in a parsed statement, as role changes. */
export function entraCallChanges(stmt: unknown): EntraChange[] {
  const out: EntraChange[] = [];
  for (const call of funcCalls(stmt)) {
    const name = (call.funcname ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : '')).at(-1)?.toLowerCase();
    const args = (call.args ?? []).map(literal);
    if (name === 'pgaadauth_create_principal' && args.length === 3) {
      out.push(...principalChanges({ role: args[0]!, objectId: null, type: null, admin: args[1]!, mfa: args[2]! }));
    } else if (name === 'pgaadauth_create_principal_with_oid' && args.length === 5) {
      out.push(...principalChanges({ role: args[0]!, objectId: args[1]!, type: args[2]?.toLowerCase() ?? null, admin: args[3]!, mfa: args[4]! }));
    }
  }
  return out;
}

/**
 * The role a call creates. Azure documents that it can log in with an Entra token; `pgaadauth_create_principal`
 * resolves the name in the tenant, so its object id and type are known only from the label it sets.
 * An argument that is not a literal (a bind parameter) is unknown: NULL, and without a role name nothing.
 */
function principalChanges(p: { role: string | null; objectId: string | null; type: string | null; admin: string | null; mfa: string | null }): EntraChange[] {
  if (p.role === null) return [];
  const out: EntraChange[] = [
    { action: 'create-role', roleName: p.role, value: 'ROLE' },
    { action: 'set-attribute', roleName: p.role, attribute: 'rolcanlogin', value: 'true' },
    attribute(p.role, 'auth_kind', ENTRA_AUTH),
  ];
  if (p.type !== null) out.push(attribute(p.role, 'entra_type', p.type));
  if (p.objectId !== null) out.push(attribute(p.role, 'entra_oid', p.objectId));
  out.push(attribute(p.role, 'entra_admin', booleanText(p.admin)), attribute(p.role, 'entra_mfa', booleanText(p.mfa)));
  return out;
}

function booleanText(v: string | null): string | null {
  if (v === null) return null;
  if (/^(t|true|on|yes|1)$/i.test(v)) return 'true';
  if (/^(f|false|off|no|0)$/i.test(v)) return 'false';
  return null;
}

/** A constant argument as text (`true`/`false` for booleans, through casts); null for anything else. */
function literal(n: Node): string | null {
  if ('TypeCast' in n) return n.TypeCast.arg ? literal(n.TypeCast.arg) : null;
  if (!('A_Const' in n)) return null;
  const c = n.A_Const as { sval?: { sval?: string }; boolval?: { boolval?: boolean }; ival?: { ival?: number }; isnull?: boolean };
  if (c.isnull) return null;
  if (c.sval) return c.sval.sval ?? '';
  if (c.boolval) return String(c.boolval.boolval ?? false);
  if (c.ival) return String(c.ival.ival ?? 0);
  return null;
}

function funcCalls(node: unknown, out: FuncCallNode[] = []): FuncCallNode[] {
  if (Array.isArray(node)) {
    for (const item of node) funcCalls(item, out);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'FuncCall') out.push(value as FuncCallNode);
      funcCalls(value, out);
    }
  }
  return out;
}
