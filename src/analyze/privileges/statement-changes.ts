/**
 * Statement text → the privilege, role, password and security-setting changes it makes, read from the
 * real PostgreSQL grammar (libpg-query). Pure apart from a bounded cache keyed by the texts that hold no secret hint.
 * Input: one SQL string (possibly several statements; unredacted when the caller has it, since a
 * password literal tells md5 / SCRAM / clear / NULL). Output never holds a password literal.
 */
import './wasm-baseline-compiler.js';
import { loadModule, parseSync } from 'libpg-query';
import type { Node, RoleSpec, DefElem, GrantStmt } from 'libpg-query';
import { ParseError } from '../../decode/log-record.js';
import type { StatementChange, PrivilegeAction } from './privilege-change.js';
import { passwordStrength } from './password-strength.js';
import { settingValue, isSecurityParameter } from './security-parameters.js';
import { entraCallChanges, entraLabelChanges, type EntraChange } from './entra-principals.js';
import { redactSettingValue, SECRET_HINT } from '../../parse/redact/index.js';

export interface StatementContext {
  /** pgaudit cut the text at `PASSWORD <REDACTED>`. */
  truncated: boolean;
  /** The pgaudit COMMAND (`CREATE ROLE`, `ALTER ROLE`), used when the truncated text no longer parses. */
  command?: string;
}

/** Transaction control found in the same text, in order with the changes (the analyzer needs both). */
export type TransactionOp =
  | { op: 'begin' }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'savepoint'; name: string }
  | { op: 'release'; name: string }
  | { op: 'rollback-to'; name: string };

export type StatementEvent = { kind: 'change'; change: StatementChange } | { kind: 'transaction'; tx: TransactionOp };

/** Loads the WebAssembly parser once; call before the first `changesFromStatement`. */
export function loadStatementParser(): Promise<void> {
  return loadModule();
}

export function changesFromStatement(sql: string, ctx: StatementContext): StatementChange[] {
  const out: StatementChange[] = [];
  for (const e of analyzeStatement(sql, ctx)) if (e.kind === 'change') out.push(e.change);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cache: the same statements recur (apps, migrations); parsing is the expensive part.

const CACHE_LIMIT = 10_000;
const cache = new Map<string, StatementEvent[]>();

export function analyzeStatement(sql: string, ctx: StatementContext): StatementEvent[] {
  const key = `${ctx.truncated ? 't' : 'f'}|${ctx.command ?? ''}|${sql}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map order is the LRU order
    cache.set(key, hit);
    return hit;
  }
  const events = ctx.truncated ? truncatedEvents(sql, ctx.command) : parsedEvents(sql);
  // A text that may hold a secret is never kept as a cache key (it would outlive the entry in memory).
  if (!SECRET_HINT.test(sql)) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, events);
  }
  return events;
}

/** The texts the cache holds, for diagnostics and for the test that none holds a secret. */
export function cachedStatements(): IterableIterator<string> {
  return cache.keys();
}

function parseStatements(sql: string): Node[] {
  try {
    return (parseSync(sql).stmts ?? []).flatMap((s) => (s.stmt ? [s.stmt] : []));
  } catch (err) {
    throw new ParseError(`statement does not parse: ${safeParserMessage(err)}`);
  }
}

/** The parser quotes the offending token, which may be a password: keep only the message and position. */
function safeParserMessage(err: unknown): string {
  const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
  const msg = (e.message ?? String(err)).replace(/ at or near ".*"$/s, '');
  const pos = e.sqlDetails?.cursorPosition;
  return pos !== undefined ? `${msg} (at character ${pos})` : msg;
}

function parsedEvents(sql: string): StatementEvent[] {
  return parseStatements(sql).flatMap((node) => eventsOfNode(node, false));
}

// ---------------------------------------------------------------------------------------------
// Registry: parse-tree node type → what it changes. Node types not listed change nothing here.

type Keys<T> = T extends unknown ? keyof T : never;
type NodeTag = Keys<Node>;
type NodeOf<K extends NodeTag> = Extract<Node, Record<K, unknown>>[K];
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
  GrantStmt: (s, truncated) => grantEvents(s, null, null, false, truncated),
  AlterDefaultPrivilegesStmt: (s, truncated) => {
    let forRoles: (string | null)[] = ['CURRENT_ROLE'];
    let schemas: (string | null)[] = [null];
    for (const o of s.options ?? []) {
      if (!('DefElem' in o)) continue;
      const items = listItems(o.DefElem.arg);
      if (o.DefElem.defname === 'roles') forRoles = items.map((i) => roleName(nodeRoleSpec(i)));
      if (o.DefElem.defname === 'schemas') schemas = items.map(stringOf);
    }
    if (!s.action) return [];
    return forRoles.flatMap((r) => schemas.flatMap((sc) => grantEvents(s.action!, r, sc, true, truncated)));
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
    return [settingChange(s, scope, null, null, truncated)];
  },
  AlterSystemStmt: (s, truncated) => (s.setstmt ? [settingChange(s.setstmt, 'system', null, null, truncated)] : []),
  AlterDatabaseSetStmt: (s, truncated) =>
    s.setstmt && isSecurityParameter(s.setstmt.name ?? '') ? [settingChange(s.setstmt, 'database', s.dbname ?? null, null, truncated)] : [],
  AlterRoleSetStmt: (s, truncated) =>
    s.setstmt ? [settingChange(s.setstmt, 'role', s.database ?? null, s.role ? roleName(s.role) : 'ALL', truncated)] : [],
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

function entraEvents(changes: EntraChange[], truncated: boolean): StatementEvent[] {
  return changes.map((c) => change({ ...c, truncated }));
}

function eventsOfNode(node: Node, truncated: boolean): StatementEvent[] {
  const tag = Object.keys(node)[0] as NodeTag;
  const handler = (handlers as Partial<Record<NodeTag, (s: unknown, t: boolean) => StatementEvent[]>>)[tag];
  return handler ? handler((node as Record<string, unknown>)[tag], truncated) : [];
}

// ---------------------------------------------------------------------------------------------
// Role options: CREATE/ALTER ROLE share them. `action` -1 is ALTER GROUP … DROP USER.

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
export type RoleAttribute = (typeof roleAttributes)[number];

function roleOptions(role: string | null, options: Node[] | undefined, action: number, truncated: boolean): StatementEvent[] {
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
        const act: PrivilegeAction = actionSign(action) < 0 ? 'revoke-role' : 'grant-role';
        out.push(change({ action: act, roleName: member, grantedRole: role, grantee: member, withOption: act === 'grant-role' ? name === 'adminmembers' : null, truncated }));
      }
    }
    // sysid: accepted and ignored by PostgreSQL.
  }
  return out;
}

const actionSign = (a: number): number => (a < 0 ? -1 : 1);

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

// ---------------------------------------------------------------------------------------------
// GRANT / REVOKE on objects, and the same inside ALTER DEFAULT PRIVILEGES.

const objectTypeNames: Record<string, string> = {
  OBJECT_FDW: 'foreign data wrapper',
  OBJECT_LARGEOBJECT: 'large object',
  OBJECT_PARAMETER_ACL: 'parameter',
};
const objectTypeName = (t: string | undefined): string =>
  objectTypeNames[t ?? ''] ?? (t ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').replace(/_/g, ' ').toLowerCase();
const plural = (t: string): string => (t === 'schema' ? 'schemas' : `${t}s`);

function grantEvents(s: GrantStmt, forRole: string | null, schema: string | null, defaults: boolean, truncated: boolean): StatementEvent[] {
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
  if (defaults) action = s.is_grant ? 'default-grant' : s.grant_option ? 'default-revoke-grant-option' : 'default-revoke';
  else action = s.is_grant ? 'grant' : s.grant_option ? 'revoke-grant-option' : 'revoke';
  const withOption = s.is_grant ? (s.grant_option ?? false) : s.grant_option ? false : null;

  let targets: { objectType: string; objectName: string | null }[];
  if (defaults) targets = [{ objectType: plural(type), objectName: schema }];
  else if (s.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') targets = (s.objects ?? []).map((o) => ({ objectType: `all ${plural(type)} in schema`, objectName: stringOf(o) }));
  else targets = (s.objects ?? []).map((o) => ({ objectType: type, objectName: objectName(o) }));

  const out: StatementEvent[] = [];
  for (const t of targets) {
    for (const g of s.grantees ?? []) {
      const grantee = roleName(nodeRoleSpec(g));
      out.push(change({ action, roleName: defaults ? forRole : grantee, privileges, ...t, grantee, withOption, grantor, truncated }));
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

// ---------------------------------------------------------------------------------------------
// Settings.

function settingChange(s: NodeOf<'VariableSetStmt'>, scope: string, objectName: string | null, role: string | null, truncated: boolean): StatementEvent {
  const reset = s.kind === 'VAR_RESET' || s.kind === 'VAR_RESET_ALL';
  const value = reset ? null : settingValue(s);
  return change({
    action: reset ? 'reset-parameter' : 'set-parameter',
    roleName: role,
    attribute: s.kind === 'VAR_RESET_ALL' ? 'ALL' : (s.name ?? null),
    // The value is what the rules and privilege_changes see: a credential setting's is redacted here.
    value: value === null ? null : redactSettingValue(s.name ?? null, value),
    objectType: scope,
    objectName,
    truncated,
  });
}

// ---------------------------------------------------------------------------------------------
// DO blocks: pgaudit logs them verbatim, passwords included. The role statements inside are
// string literals run by EXECUTE (quotes doubled) or plain PL/pgSQL statements.

const roleStatementStart =
  /^\s*(?:(?:create|alter|drop)\s+(?:role|user|group)\b|grant\b|revoke\b|alter\s+(?:system|database|default)\b|reassign\b|drop\s+owned\b|(?:create|drop)\s+extension\b|set\s+(?:session\s+|local\s+)?(?:role|session\s+authorization)\b)/i;

function doBlockEvents(s: NodeOf<'DoStmt'>): StatementEvent[] {
  const body = (s.args ?? []).map((a) => ('DefElem' in a && a.DefElem.defname === 'as' ? stringArg(a.DefElem) : null)).find((b) => b !== null);
  if (!body) return [];
  const candidates: string[] = [];
  for (const m of body.matchAll(/'((?:[^']|'')*)'/g)) candidates.push((m[1] ?? '').replace(/''/g, "'"));
  // Static statements: strip literals, then split the block on `;`.
  const withoutLiterals = body.replace(/'(?:[^']|'')*'/g, "''");
  // A statement starts a piece, or follows the last BEGIN / THEN / ELSE / LOOP in it (IF ... THEN CREATE ROLE ...).
  for (const piece of withoutLiterals.split(';')) candidates.push(piece.replace(/^[\s\S]*\b(?:begin|then|else|loop)\b/i, ''));
  const out: StatementEvent[] = [];
  for (const c of candidates) {
    if (!roleStatementStart.test(c)) continue;
    try {
      out.push(...parseStatements(c).flatMap((n) => eventsOfNode(n, false)).filter((e) => e.kind === 'change'));
    } catch {
      // A fragment such as 'create role ' || quote_ident(n): nothing certain to report.
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// pgaudit truncation: `… PASSWORD <REDACTED>`. Options before the password are certain (PostgreSQL
// rejects a repeated option); everything else the statement could set is uncertain.

function truncatedEvents(sql: string, command: string | undefined): StatementEvent[] {
  const cut = sql.search(/\s*<REDACTED>\s*$/);
  let prefix = (cut >= 0 ? sql.slice(0, cut) : sql).replace(/password$/i, '').replace(/\bencrypted\s*$/i, '');
  let nodes: Node[] | null = null;
  for (let attempt = 0; attempt < 8 && prefix.trim(); attempt++) {
    try {
      nodes = parseStatements(prefix);
      break;
    } catch {
      prefix = prefix.replace(/\s*\S+\s*$/, ''); // drop the last token and try again
    }
  }
  const stmt = nodes?.at(-1);
  const tag = stmt ? (Object.keys(stmt)[0] as string) : null;
  if (!stmt || (tag !== 'CreateRoleStmt' && tag !== 'AlterRoleStmt')) {
    const creates = /^create/i.test(command ?? sql.trim());
    return [
      change({ action: creates ? 'create-role' : 'alter-role', roleName: null, truncated: true }),
      change({ action: 'set-password', roleName: null, attribute: 'has_password', value: 'unknown', truncated: true, uncertain: [...roleAttributes, 'memberships'] }),
    ];
  }
  const events = eventsOfNode(stmt, true);
  const role = tag === 'CreateRoleStmt' ? ((stmt as { CreateRoleStmt: { role?: string } }).CreateRoleStmt.role ?? null) : roleName((stmt as { AlterRoleStmt: { role?: RoleSpec } }).AlterRoleStmt.role);
  const known = new Set(events.flatMap((e) => (e.kind === 'change' && e.change.attribute ? [e.change.attribute] : [])));
  const uncertain = [...roleAttributes.filter((a) => !known.has(a)), 'memberships'];
  events.push({ kind: 'change', change: { ...blank(), action: 'set-password', roleName: role, attribute: 'has_password', value: 'unknown', truncated: true, uncertain } });
  return events;
}

// ---------------------------------------------------------------------------------------------
// Small readers of the parse tree.

function blank(): StatementChange {
  return {
    action: 'alter-role', roleName: null, attribute: null, value: null, grantedRole: null, privileges: null, objectType: null,
    objectName: null, grantee: null, withOption: null, grantor: null, truncated: false, uncertain: null, passwordStrength: null,
  };
}

function change(fields: Partial<StatementChange> & { action: PrivilegeAction }): StatementEvent {
  return { kind: 'change', change: { ...blank(), ...fields } };
}

const roleSpecKeywords: Record<string, string> = {
  ROLESPEC_CURRENT_USER: 'CURRENT_USER',
  ROLESPEC_CURRENT_ROLE: 'CURRENT_ROLE',
  ROLESPEC_SESSION_USER: 'SESSION_USER',
  ROLESPEC_PUBLIC: 'PUBLIC',
};

function roleName(r: RoleSpec | undefined | null): string | null {
  if (!r) return null;
  return r.roletype === 'ROLESPEC_CSTRING' ? (r.rolename ?? null) : (roleSpecKeywords[r.roletype ?? ''] ?? null);
}

function nodeRoleSpec(n: Node): RoleSpec | null {
  return 'RoleSpec' in n ? n.RoleSpec : null;
}

function listItems(n: Node | undefined): Node[] {
  return n && 'List' in n ? (n.List.items ?? []) : [];
}

function stringOf(n: Node): string {
  if ('String' in n) return n.String.sval ?? '';
  if ('Integer' in n) return String(n.Integer.ival ?? 0);
  return '?';
}

function boolArg(d: DefElem): boolean | null {
  const a = d.arg;
  if (!a) return null;
  if ('Boolean' in a) return a.Boolean.boolval ?? false;
  if ('Integer' in a) return (a.Integer.ival ?? 0) !== 0;
  if ('String' in a) return /^(t|true|on|yes|1)$/i.test(a.String.sval ?? '');
  return null;
}

function intArg(d: DefElem): number {
  const a = d.arg;
  return a && 'Integer' in a ? (a.Integer.ival ?? 0) : 0;
}

function stringArg(d: DefElem): string | null {
  const a = d.arg;
  if (!a) return null;
  if ('String' in a) return a.String.sval ?? '';
  if ('Integer' in a) return String(a.Integer.ival ?? 0);
  return null;
}
