/** The registry: parse-tree node type → the changes (and transaction control) it makes. Node types not listed change nothing. */
import type { Node, DefElem } from 'libpg-query';
import { change, type StatementEvent, type TransactionOp } from './statement-event.js';
import { type NodeTag, type NodeOf, nodeTag, boolArg, listItems, nodeRoleSpec, roleName, stringOf } from './parse-tree.js';
import { parseStatements } from './parse-statements.js';
import { roleOptions } from './role-options.js';
import { grantEvents } from './object-grants.js';
import { settingChange } from './setting-changes.js';
import { roleStatementsInDoBlock } from './do-block.js';
import { isSecurityParameter, settingValue } from '../security-parameters.js';
import { entraCallChanges, entraLabelChanges, type EntraChange } from '../entra-principals.js';

type Handler<K extends NodeTag> = (stmt: NodeOf<K>, truncated: boolean) => StatementEvent[];

const handlers = {
  CreateRoleStmt: (s, truncated) => {
    const role = s.role ?? null;
    const kind = ({ ROLESTMT_USER: 'USER', ROLESTMT_GROUP: 'GROUP' } as Record<string, string>)[s.stmt_type ?? ''] ?? 'ROLE';
    return [change({ action: 'create-role', roleName: role, value: kind, truncated }), ...roleOptions(role, s.options, 1, truncated)];
  },
  AlterRoleStmt: (s, truncated) => roleOptions(roleName(s.role), s.options, s.action ?? 1, truncated),
  DropRoleStmt: (s, truncated) =>
    (s.roles ?? []).map((r) => change({ action: 'drop-role', roleName: roleName(nodeRoleSpec(r)), truncated })),
  RenameStmt: (s, truncated) =>
    s.renameType === 'OBJECT_ROLE'
      ? [change({ action: 'rename-role', roleName: s.subname ?? null, value: s.newname ?? null, truncated })]
      : [],
  GrantRoleStmt: (s, truncated) => {
    const opts = (s.opt ?? []).map((o) => ('DefElem' in o ? o.DefElem : null)).filter((o): o is DefElem => !!o);
    const admin = opts.find((o) => o.defname === 'admin');
    const others = opts.filter((o) => o.defname !== 'admin');
    const grantor = s.grantor ? roleName(s.grantor) : null;
    const out: StatementEvent[] = [];
    for (const g of s.granted_roles ?? []) {
      const granted = 'AccessPriv' in g ? (g.AccessPriv.priv_name ?? null) : null;
      for (const m of s.grantee_roles ?? []) {
        const member = roleName(nodeRoleSpec(m));
        const base = { roleName: member, grantedRole: granted, grantee: member, grantor, truncated };
        if (s.is_grant) {
          const extra = others.map((o) => `${o.defname}=${boolArg(o) ?? true}`).join(',');
          out.push(change({ ...base, action: 'grant-role', withOption: admin ? boolArg(admin) ?? true : false, value: extra || null }));
        } else if (admin) {
          out.push(change({ ...base, action: 'revoke-admin-option', withOption: false }));
        } else if (others.length > 0) {
          for (const o of others) out.push(change({ ...base, action: 'revoke-role-option', attribute: o.defname ?? null }));
        } else {
          out.push(change({ ...base, action: 'revoke-role' }));
        }
      }
    }
    return out;
  },
  GrantStmt: (s, truncated) => grantEvents(s, { defaults: false }, truncated),
  AlterDefaultPrivilegesStmt: (s, truncated) => {
    let forRoles: (string | null)[] = ['CURRENT_ROLE'];
    let schemas: (string | null)[] = [null];
    for (const o of s.options ?? []) {
      if (!('DefElem' in o)) continue;
      const items = listItems(o.DefElem.arg);
      if (o.DefElem.defname === 'roles') forRoles = items.map((i) => roleName(nodeRoleSpec(i)));
      if (o.DefElem.defname === 'schemas') schemas = items.map(stringOf);
    }
    const action = s.action;
    if (!action) return [];
    return forRoles.flatMap((forRole) => schemas.flatMap((schema) => grantEvents(action, { defaults: true, forRole, schema }, truncated)));
  },
  ReassignOwnedStmt: (s, truncated) =>
    (s.roles ?? []).map((r) =>
      change({ action: 'reassign-owned', roleName: roleName(nodeRoleSpec(r)), grantee: roleName(s.newrole), truncated }),
    ),
  DropOwnedStmt: (s, truncated) =>
    (s.roles ?? []).map((r) => change({ action: 'drop-owned', roleName: roleName(nodeRoleSpec(r)), truncated })),
  VariableSetStmt: (s, truncated) => {
    const scope = s.is_local ? 'transaction' : 'session';
    const name = s.name ?? '';
    if (name === 'role') {
      if (s.kind === 'VAR_RESET' || s.kind === 'VAR_SET_DEFAULT') return [change({ action: 'reset-role', objectType: scope, truncated })];
      return [change({ action: 'set-role', value: settingValue(s), objectType: scope, truncated })];
    }
    if (name === 'session_authorization') {
      const value = s.kind === 'VAR_RESET' || s.kind === 'VAR_SET_DEFAULT' ? 'DEFAULT' : settingValue(s);
      return [change({ action: 'set-session-authorization', value, objectType: scope, truncated })];
    }
    if (!isSecurityParameter(name)) return [];
    return [settingChange(s, { scope, objectName: null, role: null }, truncated)];
  },
  AlterSystemStmt: (s, truncated) =>
    s.setstmt ? [settingChange(s.setstmt, { scope: 'system', objectName: null, role: null }, truncated)] : [],
  AlterDatabaseSetStmt: (s, truncated) =>
    s.setstmt && isSecurityParameter(s.setstmt.name ?? '')
      ? [settingChange(s.setstmt, { scope: 'database', objectName: s.dbname ?? null, role: null }, truncated)]
      : [],
  AlterRoleSetStmt: (s, truncated) =>
    s.setstmt
      ? [settingChange(s.setstmt, { scope: 'role', objectName: s.database ?? null, role: s.role ? roleName(s.role) : 'ALL' }, truncated)]
      : [],
  CreateExtensionStmt: (s, truncated) => [
    change({ action: 'create-extension', objectType: 'extension', objectName: s.extname ?? null, truncated }),
  ],
  DropStmt: (s, truncated) =>
    s.removeType === 'OBJECT_EXTENSION'
      ? (s.objects ?? []).map((o) => change({ action: 'drop-extension', objectType: 'extension', objectName: stringOf(o), truncated }))
      : [],
  DoStmt: (s) => doBlockEvents(s),
  // Entra principals (entra-principals.ts): the analyzer only hands over SELECTs that call pgaadauth functions.
  SecLabelStmt: (s, truncated) => entraEvents(entraLabelChanges(s), truncated),
  SelectStmt: (s, truncated) => entraEvents(entraCallChanges(s), truncated),
  TransactionStmt: (s) => {
    const name = s.savepoint_name ?? '';
    const table: Record<string, TransactionOp | undefined> = {
      TRANS_STMT_BEGIN: { op: 'begin' },
      TRANS_STMT_START: { op: 'begin' },
      TRANS_STMT_COMMIT: { op: 'commit' },
      TRANS_STMT_PREPARE: { op: 'commit' },
      TRANS_STMT_ROLLBACK: { op: 'rollback' },
      TRANS_STMT_SAVEPOINT: { op: 'savepoint', name },
      TRANS_STMT_RELEASE: { op: 'release', name },
      TRANS_STMT_ROLLBACK_TO: { op: 'rollback-to', name },
    };
    const tx = table[s.kind ?? ''];
    return tx ? [{ kind: 'transaction', tx }] : [];
  },
} satisfies { [K in NodeTag]?: Handler<K> };

/** The events of one parsed statement, by the handler of its node type. */
export function eventsOfNode(node: Node, truncated: boolean): StatementEvent[] {
  const tag = nodeTag(node);
  const handler = (handlers as Partial<Record<NodeTag, (s: unknown, t: boolean) => StatementEvent[]>>)[tag];
  return handler ? handler((node as Record<string, unknown>)[tag], truncated) : [];
}

function entraEvents(changes: EntraChange[], truncated: boolean): StatementEvent[] {
  return changes.map((c) => change({ ...c, truncated }));
}

/** The changes of the role statements a DO block runs (its transaction control is the block's own, not the session's). */
function doBlockEvents(s: NodeOf<'DoStmt'>): StatementEvent[] {
  const out: StatementEvent[] = [];
  for (const text of roleStatementsInDoBlock(s)) {
    try {
      out.push(...parseStatements(text).flatMap((n) => eventsOfNode(n, false)).filter((e) => e.kind === 'change'));
    } catch {
      // A fragment such as 'create role ' || quote_ident(n): nothing certain to report.
    }
  }
  return out;
}
