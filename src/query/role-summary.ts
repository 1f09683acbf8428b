/**
 * The roles as psql's `\du` shows them: one line per role with its attributes in words and the roles it is
 * a member of, instead of eleven boolean columns that do not fit a terminal.
 */
import type { Rows } from './format-rows.js';
import type { PlainValue } from './row-values.js';

type Row = Record<string, PlainValue>;

/** psql's wording and order (describe.c, describeRoles). */
export function roleAttributes(r: Row): string {
  const words: string[] = [];
  if (r.rolsuper === true) words.push('Superuser');
  if (r.rolinherit === false) words.push('No inheritance');
  if (r.rolcreaterole === true) words.push('Create role');
  if (r.rolcreatedb === true) words.push('Create DB');
  if (r.rolcanlogin === false) words.push('Cannot login');
  if (r.rolreplication === true) words.push('Replication');
  if (r.rolbypassrls === true) words.push('Bypass RLS');
  const limit = r.rolconnlimit === null || r.rolconnlimit === undefined ? -1 : Number(r.rolconnlimit);
  if (limit >= 0) words.push(limit === 0 ? 'No connections' : `${limit} connection${limit === 1 ? '' : 's'}`);
  if (r.rolvaliduntil !== null && r.rolvaliduntil !== undefined) words.push(`Password valid until ${String(r.rolvaliduntil)}`);
  if (r.uncertain === true) words.push('(uncertain)');
  return words.join(', ');
}

export function summarizeRoles(roles: Rows, memberships: Rows): Rows {
  const memberOf = new Map<string, string[]>();
  for (const m of memberships.rows) {
    const key = `${String(m.server)}\u0000${String(m.member)}`;
    memberOf.set(key, [...(memberOf.get(key) ?? []), `${String(m.role_name)}${m.admin_option === true ? ' (admin)' : ''}`]);
  }
  return {
    columns: ['server', 'role', 'attributes', 'member_of'],
    rows: roles.rows.map((r) => ({
      server: r.server ?? null,
      role: r.rolname ?? null,
      attributes: roleAttributes(r),
      member_of: (memberOf.get(`${String(r.server)}\u0000${String(r.rolname)}`) ?? []).join(', '),
    })),
  };
}
