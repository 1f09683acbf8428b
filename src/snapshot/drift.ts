/**
 * Drift: what changed between two snapshots of a server that the audit trail between them does not
 * explain. The earlier snapshot plus the effective trail changes logged in (window_start, window_end]
 * gives the state the trail predicts; every way the later snapshot differs from it is drift. A change made
 * while pgaudit was silenced (`SET pgaudit.log = 'none'`, a database without the extension) shows here.
 *
 * What counts as explained:
 * - an attribute a pgaudit-truncated statement in the window may have set (`uncertain`): the statement is
 *   in the trail, only its tail is hidden;
 * - memberships of a role whose truncated CREATE/ALTER ROLE may have carried IN ROLE / ROLE / ADMIN;
 * - VALID UNTIL: the trail has the literal as written, in the server's time zone, which the logs do not
 *   tell; a value within 14 hours (the widest UTC offset) of the snapshot's counts as the same.
 * - has_password only when both snapshots could read pg_authid (elsewhere it is NULL, never compared).
 * - the Entra mapping (auth_kind, entra_type, entra_oid, entra_admin) only where the later snapshot read
 *   pg_shseclabel and the trail has a basis (a role it created, or the earlier snapshot's label): a label set
 *   while pgaudit's `ddl` class was off shows here. `entra_mfa` is in no catalog and is never compared.
 * PostgreSQL 16's per-grantor rows, INHERIT and SET options are not compared: the trail does not rebuild them.
 */
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { rebuildRoles, type BaseRole, type RoleBase } from '../analyze/roles/rebuild-roles.js';
import { pairKey, splitPairKey } from '../contracts/session-key.js';

export type DriftKind = 'role' | 'attribute' | 'membership';

export interface DriftRow {
  server: string;
  /** The role that changed; for memberships, the member. */
  role: string;
  kind: DriftKind;
  /** The pg_roles column for `attribute`; `membership` for memberships; null for a role added or removed. */
  attribute: string | null;
  /** For memberships: the role granted. */
  granted_role: string | null;
  /** What the trail predicts (the earlier snapshot plus the trail). */
  before: string | null;
  /** What the later snapshot shows. */
  after: string | null;
  window_start: Date;
  window_end: Date;
  explained: false;
}

const COMPARED = [
  'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolcanlogin', 'rolreplication', 'rolconnlimit', 'rolvaliduntil', 'rolbypassrls', 'has_password',
  'auth_kind', 'entra_type', 'entra_oid', 'entra_admin',
] as const;
const ENTRA_COMPARED: ReadonlySet<Compared> = new Set(['auth_kind', 'entra_type', 'entra_oid', 'entra_admin']);
type Compared = (typeof COMPARED)[number];

const MAX_UTC_OFFSET_MS = 14 * 3_600_000;

/** How two values of an attribute are the same, where plain equality is not enough. */
const SAME: Partial<Record<Compared, (expected: unknown, actual: unknown) => boolean>> = {
  rolvaliduntil: (e, a) => sameValidUntil(e as string | null, a as string | null),
  // Unknown on one side (pg_authid unreadable): nothing to compare.
  has_password: (e, a) => e === null || a === null || e === a,
};

export function computeDrift(before: RoleBase, after: RoleBase, changes: readonly PrivilegeChange[]): DriftRow[] {
  const server = before.server;
  const window = { window_start: before.takenAt, window_end: after.takenAt };
  const inWindow = changes.filter(
    (c) => c.server === server && c.effective && c.loggedAt.getTime() > before.takenAt.getTime() && c.loggedAt.getTime() <= after.takenAt.getTime(),
  );
  const expected = rebuildRoles(inWindow, { base: before, at: after.takenAt });
  const expectedRoles = new Map(expected.roles.map((r) => [r.rolname, r]));
  const actualRoles = new Map(after.roles.map((r) => [r.rolname, r]));
  const existing = rolesTheTrailKnows(before, inWindow);
  const out: DriftRow[] = [];
  const row = (role: string, kind: DriftKind, attribute: string | null, grantedRole: string | null, b: string | null, a: string | null): void => {
    out.push({ server, role, kind, attribute, granted_role: grantedRole, before: b, after: a, ...window, explained: false });
  };

  for (const name of [...new Set([...existing, ...actualRoles.keys()])].sort()) {
    const actual = actualRoles.get(name);
    if (!existing.has(name)) {
      row(name, 'role', null, null, 'absent', 'present');
      continue;
    }
    if (!actual) {
      row(name, 'role', null, null, 'present', 'absent');
      continue;
    }
    const predicted = expectedRoles.get(name);
    if (!predicted) continue;
    for (const attribute of COMPARED) {
      if (predicted.uncertain.includes(attribute)) continue;
      const e = predicted[attribute];
      const a = (actual as BaseRole)[attribute];
      if (ENTRA_COMPARED.has(attribute)) {
        if (predicted.auth_kind === null || actual.auth_kind === undefined || actual.auth_kind === null) continue; // no basis, or unread
        if (e !== (a ?? null)) row(name, 'attribute', attribute, null, text(e), text(a));
        continue;
      }
      if (e === null && attribute !== 'has_password' && attribute !== 'rolvaliduntil') continue; // no basis to compare
      const same = SAME[attribute] ?? ((x: unknown, y: unknown) => x === y);
      if (!same(e, a)) row(name, 'attribute', attribute, null, text(e), text(a));
    }
  }

  const membershipDoubt = new Set(expected.roles.filter((r) => r.uncertain.includes('memberships')).map((r) => r.rolname));
  const predictedMembers = collapse(expected.memberships);
  const actualMembers = collapse(after.memberships);
  const keys = [...new Set([...predictedMembers.keys(), ...actualMembers.keys()])].sort();
  for (const key of keys) {
    const [role, member] = splitPairKey(key);
    if (membershipDoubt.has(role) || membershipDoubt.has(member)) continue;
    // A membership of a role that is itself drift (added or removed) is part of that row's story.
    if (!existing.has(member) || !actualRoles.has(member) || !existing.has(role) || !actualRoles.has(role)) continue;
    const e = predictedMembers.get(key);
    const a = actualMembers.get(key);
    if (membershipText(e) !== membershipText(a)) row(member, 'membership', 'membership', role, membershipText(e), membershipText(a));
  }
  return out;
}

/** Names that exist by the trail: the earlier snapshot's, then CREATE / DROP / RENAME in the window. */
function rolesTheTrailKnows(before: RoleBase, changes: readonly PrivilegeChange[]): Set<string> {
  const names = new Set(before.roles.map((r) => r.rolname));
  for (const c of [...changes].sort((a, b) => a.loggedAt.getTime() - b.loggedAt.getTime() || a.seq - b.seq)) {
    if (!c.roleName) continue;
    if (c.action === 'create-role') names.add(c.roleName);
    else if (c.action === 'drop-role') names.delete(c.roleName);
    else if (c.action === 'rename-role' && c.value && names.delete(c.roleName)) names.add(c.value);
  }
  return names;
}

function collapse(rows: readonly { role_name: string; member: string; admin_option: boolean | null }[]): Map<string, { admin: boolean }> {
  const out = new Map<string, { admin: boolean }>();
  for (const r of rows) {
    const key = pairKey(r.role_name, r.member);
    out.set(key, { admin: (out.get(key)?.admin ?? false) || r.admin_option === true });
  }
  return out;
}

function membershipText(m: { admin: boolean } | undefined): string {
  return m === undefined ? 'none' : m.admin ? 'member with admin option' : 'member';
}

function sameValidUntil(expected: string | null, actual: string | null): boolean {
  if (expected === actual) return true;
  if (expected === null || actual === null) return false;
  const e = validUntilMs(expected);
  const a = validUntilMs(actual);
  if (e === null || a === null) return false;
  if (!Number.isFinite(e) || !Number.isFinite(a)) return e === a;
  return Math.abs(e - a) <= MAX_UTC_OFFSET_MS;
}

function validUntilMs(v: string): number | null {
  const s = v.trim().toLowerCase();
  if (s === 'infinity') return Infinity;
  if (s === '-infinity') return -Infinity;
  const ms = Date.parse(v.trim().replace(' ', 'T'));
  return Number.isNaN(ms) ? (Number.isNaN(Date.parse(v)) ? null : Date.parse(v)) : ms;
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
