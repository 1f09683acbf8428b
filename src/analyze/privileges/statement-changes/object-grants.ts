/** GRANT / REVOKE on objects, and the same inside ALTER DEFAULT PRIVILEGES → one change per object and grantee. */
import type { Node, GrantStmt } from 'libpg-query';
import type { PrivilegeAction } from '../privilege-change.js';
import { change, type StatementEvent } from './statement-event.js';
import { nodeRoleSpec, roleName, stringOf } from './parse-tree.js';

const objectTypeNames: Record<string, string> = {
  OBJECT_FDW: 'foreign data wrapper',
  OBJECT_LARGEOBJECT: 'large object',
  OBJECT_PARAMETER_ACL: 'parameter',
};
const objectTypeName = (t: string | undefined): string =>
  objectTypeNames[t ?? ''] ?? (t ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').replace(/_/g, ' ').toLowerCase();
const plural = (t: string): string => (t === 'schema' ? 'schemas' : `${t}s`);

/** Default privileges apply to objects not yet created: the row names the owner role and the schema, not an object. */
export type GrantScope = { defaults: false } | { defaults: true; forRole: string | null; schema: string | null };

export function grantEvents(s: GrantStmt, scope: GrantScope, truncated: boolean): StatementEvent[] {
  const privileges = s.privileges?.length
    ? s.privileges.map((p) => {
        const a = 'AccessPriv' in p ? p.AccessPriv : {};
        const cols = (a.cols ?? []).map(stringOf);
        const priv = (a.priv_name ?? 'all').toUpperCase();
        return cols.length ? `${priv} (${cols.join(', ')})` : priv;
      })
    : ['ALL'];
  const type = objectTypeName(s.objtype);
  const grantor = s.grantor ? roleName(s.grantor) : null;
  let action: PrivilegeAction;
  if (scope.defaults) action = s.is_grant ? 'default-grant' : s.grant_option ? 'default-revoke-grant-option' : 'default-revoke';
  else action = s.is_grant ? 'grant' : s.grant_option ? 'revoke-grant-option' : 'revoke';
  const withOption = s.is_grant ? (s.grant_option ?? false) : s.grant_option ? false : null;

  let targets: { objectType: string; objectName: string | null }[];
  if (scope.defaults) targets = [{ objectType: plural(type), objectName: scope.schema }];
  else if (s.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') targets = (s.objects ?? []).map((o) => ({ objectType: `all ${plural(type)} in schema`, objectName: stringOf(o) }));
  else targets = (s.objects ?? []).map((o) => ({ objectType: type, objectName: objectName(o) }));

  const out: StatementEvent[] = [];
  for (const t of targets) {
    for (const g of s.grantees ?? []) {
      const grantee = roleName(nodeRoleSpec(g));
      out.push(change({ action, roleName: scope.defaults ? scope.forRole : grantee, privileges, ...t, grantee, withOption, grantor, truncated }));
    }
  }
  return out;
}

function objectName(o: Node): string | null {
  if ('RangeVar' in o) return [o.RangeVar.catalogname, o.RangeVar.schemaname, o.RangeVar.relname].filter(Boolean).join('.');
  if ('ObjectWithArgs' in o) {
    const name = (o.ObjectWithArgs.objname ?? []).map(stringOf).join('.');
    if (o.ObjectWithArgs.args_unspecified) return name;
    const args = (o.ObjectWithArgs.objargs ?? []).map((a) => ('TypeName' in a ? (a.TypeName.names ?? []).map(stringOf).filter((n) => n !== 'pg_catalog').join('.') : '?'));
    return `${name}(${args.join(', ')})`;
  }
  if ('List' in o) return (o.List.items ?? []).map(stringOf).join('.');
  if ('Integer' in o) return String(o.Integer.ival ?? 0);
  return stringOf(o);
}
