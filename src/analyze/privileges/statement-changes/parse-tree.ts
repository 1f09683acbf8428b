/** Small readers of libpg-query's parse tree: role specs, lists, literals and option arguments. */
import type { Node, RoleSpec, DefElem } from 'libpg-query';

type Keys<T> = T extends unknown ? keyof T : never;
/** A parse-tree node's type name (`CreateRoleStmt`, `GrantStmt`, …): its one key. */
export type NodeTag = Keys<Node>;
/** The statement under a node of that type. */
export type NodeOf<K extends NodeTag> = Extract<Node, Record<K, unknown>>[K];

export function nodeTag(node: Node): NodeTag {
  return Object.keys(node)[0] as NodeTag;
}

const roleSpecKeywords: Record<string, string> = {
  ROLESPEC_CURRENT_USER: 'CURRENT_USER',
  ROLESPEC_CURRENT_ROLE: 'CURRENT_ROLE',
  ROLESPEC_SESSION_USER: 'SESSION_USER',
  ROLESPEC_PUBLIC: 'PUBLIC',
};

/** A role's name, or the keyword (CURRENT_USER, PUBLIC, …) the analyzer resolves later. */
export function roleName(r: RoleSpec | undefined | null): string | null {
  if (!r) return null;
  return r.roletype === 'ROLESPEC_CSTRING' ? (r.rolename ?? null) : (roleSpecKeywords[r.roletype ?? ''] ?? null);
}

export function nodeRoleSpec(n: Node): RoleSpec | null {
  return 'RoleSpec' in n ? n.RoleSpec : null;
}

export function listItems(n: Node | undefined): Node[] {
  return n && 'List' in n ? (n.List.items ?? []) : [];
}

export function stringOf(n: Node): string {
  if ('String' in n) return n.String.sval ?? '';
  if ('Integer' in n) return String(n.Integer.ival ?? 0);
  return '?';
}

export function boolArg(d: DefElem): boolean | null {
  const a = d.arg;
  if (!a) return null;
  if ('Boolean' in a) return a.Boolean.boolval ?? false;
  if ('Integer' in a) return (a.Integer.ival ?? 0) !== 0;
  if ('String' in a) return /^(t|true|on|yes|1)$/i.test(a.String.sval ?? '');
  return null;
}

export function intArg(d: DefElem): number {
  const a = d.arg;
  return a && 'Integer' in a ? (a.Integer.ival ?? 0) : 0;
}

export function stringArg(d: DefElem): string | null {
  const a = d.arg;
  if (!a) return null;
  if ('String' in a) return a.String.sval ?? '';
  if ('Integer' in a) return String(a.Integer.ival ?? 0);
  return null;
}
