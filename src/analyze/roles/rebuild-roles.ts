/**
 * The `roles` (pg_roles) and `role_memberships` (pg_auth_members) of each server, replayed from the
 * effective privilege changes in time order. Attributes a statement did not set take PostgreSQL's
 * CREATE defaults; a role that existed before the trail starts has NULL until a statement sets it; an
 * attribute a pgaudit-truncated statement may have set stays in `uncertain` until set again in full.
 */
import type { PrivilegeChange } from '../privileges/privilege-change.js';

export interface RoleRow {
  server: string;
  rolname: string;
  rolsuper: boolean | null;
  rolinherit: boolean | null;
  rolcreaterole: boolean | null;
  rolcreatedb: boolean | null;
  rolcanlogin: boolean | null;
  rolreplication: boolean | null;
  rolconnlimit: number | null;
  /** The VALID UNTIL literal as written (its time zone is the server's, which the trail does not tell). */
  rolvaliduntil: string | null;
  rolbypassrls: boolean | null;
  has_password: boolean | null;
  created_at: Date | null;
  created_by: string | null;
  password_changed_at: Date | null;
  /** Attributes (and `memberships`) a truncated statement may have changed since last set in full. */
  uncertain: string[];
  /** `entra` (a Microsoft Entra principal, mapped by a pgaadauth label) or `postgres`; null before the trail. */
  auth_kind: string | null;
  /** The Entra object type the label names: `user`, `group` or `service`. */
  entra_type: string | null;
  /** The Entra object id the role is mapped to. */
  entra_oid: string | null;
  /** The label's `admin`: the principal may create and drop other Entra principals. */
  entra_admin: boolean | null;
  /** `isMfa` of the creating call; the label does not carry it, so only the trail tells. */
  entra_mfa: boolean | null;
}

export interface MembershipRow {
  server: string;
  role_name: string;
  member: string;
  admin_option: boolean | null;
  grantor: string | null;
  granted_at: Date | null;
}

interface RoleState {
  row: RoleRow;
  /** The stored password is an MD5 hash (a rename clears it); null when unknown. */
  md5: boolean | null;
}

type Attribute =
  | 'rolsuper' | 'rolinherit' | 'rolcreaterole' | 'rolcreatedb' | 'rolcanlogin' | 'rolreplication' | 'rolconnlimit' | 'rolvaliduntil' | 'rolbypassrls'
  | 'auth_kind' | 'entra_type' | 'entra_oid' | 'entra_admin' | 'entra_mfa';

/** How each attribute's text value becomes the column value. */
const attributeParsers = {
  rolsuper: (v) => v === 'true',
  rolinherit: (v) => v === 'true',
  rolcreaterole: (v) => v === 'true',
  rolcreatedb: (v) => v === 'true',
  rolcanlogin: (v) => v === 'true',
  rolreplication: (v) => v === 'true',
  rolbypassrls: (v) => v === 'true',
  rolconnlimit: (v) => Number(v),
  rolvaliduntil: (v) => v,
  auth_kind: (v) => v,
  entra_type: (v) => v,
  entra_oid: (v) => v,
  entra_admin: (v) => v === 'true',
  entra_mfa: (v) => v === 'true',
} satisfies Record<Attribute, (v: string) => unknown>;

/**
 * What a live snapshot showed for one server at `takenAt` (src/snapshot): known exactly, so it replaces
 * the replay up to that time; the trail before it only contributes what pg_roles cannot tell (created_at,
 * created_by, password_changed_at, and has_password where pg_authid was not readable).
 */
export interface RoleBase {
  server: string;
  takenAt: Date;
  roles: readonly BaseRole[];
  memberships: readonly BaseMembership[];
}

/** A snapshot's Entra columns are undefined when pg_seclabels was not readable (the trail's then stand); it never knows `entra_mfa`. */
export type BaseRole = Pick<RoleRow, 'rolname' | Exclude<Attribute, EntraColumn> | 'has_password'> &
  Partial<Pick<RoleRow, Exclude<EntraColumn, 'entra_mfa'>>> & { password_md5?: boolean | null };
type EntraColumn = 'auth_kind' | 'entra_type' | 'entra_oid' | 'entra_admin' | 'entra_mfa';
export type BaseMembership = Pick<MembershipRow, 'role_name' | 'member' | 'admin_option' | 'grantor'>;

/**
 * Replays `changes` (up to `at`). With a `base` taken at or before `at`, the base server's state is the
 * snapshot at its time, and only its changes logged after the snapshot apply on top.
 */
export function rebuildRoles(changes: PrivilegeChange[], opts: { at?: Date; base?: RoleBase } = {}): { roles: RoleRow[]; memberships: MembershipRow[] } {
  const at = opts.at?.getTime() ?? Infinity;
  const base = opts.base && opts.base.takenAt.getTime() <= at ? opts.base : undefined;
  const ordered = changes
    .filter((c) => c.effective && c.loggedAt.getTime() <= at)
    .sort((a, b) => a.server.localeCompare(b.server) || a.loggedAt.getTime() - b.loggedAt.getTime() || a.seq - b.seq);

  const roles = new Map<string, Map<string, RoleState>>();
  const memberships = new Map<string, Map<string, MembershipRow>>();
  let seeded = false;
  const seedBase = (): void => {
    if (!base || seeded) return;
    seeded = true;
    const seed = seedFromBase(base, roles.get(base.server) ?? new Map(), memberships.get(base.server) ?? new Map());
    roles.set(base.server, seed.roles);
    memberships.set(base.server, seed.memberships);
  };
  for (const c of ordered) {
    if (base && c.server === base.server && c.loggedAt.getTime() > base.takenAt.getTime()) seedBase();
    let r = roles.get(c.server);
    if (!r) roles.set(c.server, (r = new Map()));
    let m = memberships.get(c.server);
    if (!m) memberships.set(c.server, (m = new Map()));
    apply(c, r, m);
  }
  seedBase();
  const roleRows = [...roles.values()].flatMap((r) => [...r.values()].map((s) => s.row));
  const memberRows = [...memberships.values()].flatMap((m) => [...m.values()]);
  roleRows.sort((a, b) => a.server.localeCompare(b.server) || a.rolname.localeCompare(b.rolname));
  memberRows.sort((a, b) => a.server.localeCompare(b.server) || a.role_name.localeCompare(b.role_name) || a.member.localeCompare(b.member));
  return { roles: roleRows, memberships: memberRows };
}

/**
 * One server's replay that later changes can extend without starting over: the ingest applies each
 * batch's changes to it. It refuses (returns false) a change that sorts before one already applied, or
 * that a snapshot already covers once the replay has passed it; the caller then replays from scratch.
 */
export class RoleReplay {
  private readonly roles = new Map<string, RoleState>();
  private readonly members = new Map<string, MembershipRow>();
  private seeded: { roles: Map<string, RoleState>; members: Map<string, MembershipRow> } | null = null;
  private lastTime = -Infinity;
  private lastSeq = -Infinity;

  constructor(
    readonly server: string,
    private readonly base?: RoleBase,
  ) {}

  extend(changes: readonly PrivilegeChange[]): boolean {
    const ordered = changes.filter((c) => c.effective && c.server === this.server).sort(byTimeThenSeq);
    const first = ordered[0];
    if (first && !this.isAfterLast(first)) return false;
    const takenAt = this.base?.takenAt.getTime() ?? Infinity;
    if (this.seeded && first && first.loggedAt.getTime() <= takenAt) return false;
    for (const c of ordered) {
      if (this.base && !this.seeded && c.loggedAt.getTime() > takenAt) {
        const seed = seedFromBase(this.base, this.roles, this.members);
        this.seeded = { roles: seed.roles, members: seed.memberships };
      }
      apply(c, this.seeded?.roles ?? this.roles, this.seeded?.members ?? this.members);
      this.lastTime = c.loggedAt.getTime();
      this.lastSeq = c.seq;
    }
    return true;
  }

  rows(): { roles: RoleRow[]; memberships: MembershipRow[] } {
    const state = this.seeded ?? (this.base ? (({ roles, memberships }) => ({ roles, members: memberships }))(seedFromBase(this.base, this.roles, this.members)) : { roles: this.roles, members: this.members });
    const roles = [...state.roles.values()].map((r) => r.row).sort((a, b) => compareText(a.rolname, b.rolname));
    const memberships = [...state.members.values()].sort((a, b) => compareText(a.role_name, b.role_name) || compareText(a.member, b.member));
    return { roles, memberships };
  }

  private isAfterLast(c: PrivilegeChange): boolean {
    const t = c.loggedAt.getTime();
    return t > this.lastTime || (t === this.lastTime && c.seq > this.lastSeq);
  }
}

/** The order a replay applies changes in: by time, then by the analyzer's order of observation. */
export function byTimeThenSeq(a: PrivilegeChange, b: PrivilegeChange): number {
  return a.loggedAt.getTime() - b.loggedAt.getTime() || a.seq - b.seq;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const memberKey = (role: string, member: string): string => `${role}\u0000${member}`;

/** The snapshot's roles and memberships, with what only the trail before it knows carried over by name. */
function seedFromBase(
  base: RoleBase,
  trailRoles: Map<string, RoleState>,
  trailMembers: Map<string, MembershipRow>,
): { roles: Map<string, RoleState>; memberships: Map<string, MembershipRow> } {
  const roles = new Map<string, RoleState>();
  for (const b of base.roles) {
    const trail = trailRoles.get(b.rolname)?.row;
    const trailPassword = trail && !trail.uncertain.includes('has_password') ? trail.has_password : null;
    const hasPassword = b.has_password ?? trailPassword;
    const entra = b.auth_kind === undefined ? trailEntra(trail) : { auth_kind: b.auth_kind, entra_type: b.entra_type ?? null, entra_oid: b.entra_oid ?? null, entra_admin: b.entra_admin ?? null };
    // MFA is in no catalog, only in the creating call: the trail's holds while the snapshot shows the mapping it knows.
    const sameMapping = b.auth_kind === undefined || (b.auth_kind === 'entra' && trail?.entra_oid === entra.entra_oid);
    const mfa = sameMapping ? (trail?.entra_mfa ?? null) : null;
    roles.set(b.rolname, {
      md5: b.password_md5 ?? (hasPassword === false ? false : (trailRoles.get(b.rolname)?.md5 ?? null)),
      row: {
        server: base.server, rolname: b.rolname, rolsuper: b.rolsuper, rolinherit: b.rolinherit, rolcreaterole: b.rolcreaterole,
        rolcreatedb: b.rolcreatedb, rolcanlogin: b.rolcanlogin, rolreplication: b.rolreplication, rolconnlimit: b.rolconnlimit,
        rolvaliduntil: b.rolvaliduntil, rolbypassrls: b.rolbypassrls, has_password: hasPassword,
        created_at: trail?.created_at ?? null, created_by: trail?.created_by ?? null, password_changed_at: trail?.password_changed_at ?? null,
        uncertain: [], ...entra, entra_mfa: mfa,
      },
    });
  }
  const memberships = new Map<string, MembershipRow>();
  for (const m of base.memberships) {
    const key = memberKey(m.role_name, m.member);
    const old = memberships.get(key);
    // PostgreSQL 16 keeps one row per grantor; `role_memberships` has one per role and member.
    if (old) {
      old.admin_option = Boolean(old.admin_option) || Boolean(m.admin_option);
      continue;
    }
    memberships.set(key, { server: base.server, role_name: m.role_name, member: m.member, admin_option: m.admin_option, grantor: m.grantor, granted_at: trailMembers.get(key)?.granted_at ?? null });
  }
  return { roles, memberships };
}

function trailEntra(trail: RoleRow | undefined): Pick<RoleRow, 'auth_kind' | 'entra_type' | 'entra_oid' | 'entra_admin'> {
  return { auth_kind: trail?.auth_kind ?? null, entra_type: trail?.entra_type ?? null, entra_oid: trail?.entra_oid ?? null, entra_admin: trail?.entra_admin ?? null };
}

function unknownRole(server: string, rolname: string): RoleState {
  return {
    md5: null,
    row: {
      server, rolname, rolsuper: null, rolinherit: null, rolcreaterole: null, rolcreatedb: null, rolcanlogin: null,
      rolreplication: null, rolconnlimit: null, rolvaliduntil: null, rolbypassrls: null, has_password: null,
      created_at: null, created_by: null, password_changed_at: null, uncertain: [],
      auth_kind: null, entra_type: null, entra_oid: null, entra_admin: null, entra_mfa: null,
    },
  };
}

function apply(c: PrivilegeChange, roles: Map<string, RoleState>, members: Map<string, MembershipRow>): void {
  const name = c.roleName;
  const ensure = (n: string): RoleState => {
    let s = roles.get(n);
    if (!s) roles.set(n, (s = unknownRole(c.server, n)));
    return s;
  };
  const settle = (s: RoleState, attribute: string): void => {
    s.row.uncertain = s.row.uncertain.filter((u) => u !== attribute);
  };
  const doubt = (s: RoleState, attributes: string[]): void => {
    s.row.uncertain = [...new Set([...s.row.uncertain, ...attributes])].sort();
  };
  const who = c.actingRole ?? c.actor;

  switch (c.action) {
    case 'create-role': {
      if (!name) return;
      // PostgreSQL's defaults: only CREATE USER implies LOGIN.
      roles.set(name, {
        md5: false,
        row: {
          server: c.server, rolname: name, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false,
          rolcanlogin: c.value === 'USER', rolreplication: false, rolconnlimit: -1, rolvaliduntil: null, rolbypassrls: false,
          has_password: false, created_at: c.loggedAt, created_by: who, password_changed_at: null, uncertain: [],
          // A pgaadauth label (the same statement, for an Entra function's call) makes it `entra`.
          auth_kind: 'postgres', entra_type: null, entra_oid: null, entra_admin: null, entra_mfa: null,
        },
      });
      return;
    }
    case 'set-attribute': {
      if (!name || !c.attribute || !(c.attribute in attributeParsers)) return;
      const s = ensure(name);
      const attr = c.attribute as Attribute;
      (s.row as unknown as Record<string, unknown>)[attr] = c.value === null ? null : attributeParsers[attr](c.value);
      if (!c.truncated || !c.uncertain) settle(s, attr);
      return;
    }
    case 'set-password': {
      if (!name) return;
      const s = ensure(name);
      s.row.has_password = true;
      s.row.password_changed_at = c.loggedAt;
      if (c.value === 'unknown') {
        // Hidden tail: the password may have been NULL, any later option may have been set.
        s.md5 = null;
        doubt(s, c.uncertain ?? ['has_password']);
        return;
      }
      s.md5 = c.value === 'md5';
      settle(s, 'has_password');
      return;
    }
    case 'remove-password': {
      if (!name) return;
      const s = ensure(name);
      s.row.has_password = false;
      s.row.password_changed_at = c.loggedAt;
      s.md5 = false;
      settle(s, 'has_password');
      return;
    }
    case 'rename-role': {
      if (!name || !c.value) return;
      const s = roles.get(name) ?? unknownRole(c.server, name);
      roles.delete(name);
      s.row.rolname = c.value;
      // PostgreSQL clears an MD5 password on rename: the hash is salted with the role name.
      if (s.md5 === true) {
        s.row.has_password = false;
        s.row.password_changed_at = c.loggedAt;
        s.md5 = false;
      }
      roles.set(c.value, s);
      for (const [k, row] of [...members]) {
        if (row.role_name !== name && row.member !== name) continue;
        members.delete(k);
        if (row.role_name === name) row.role_name = c.value;
        if (row.member === name) row.member = c.value;
        members.set(memberKey(row.role_name, row.member), row);
      }
      return;
    }
    case 'drop-role': {
      if (!name) return;
      roles.delete(name);
      for (const [k, row] of [...members]) if (row.role_name === name || row.member === name) members.delete(k);
      return;
    }
    case 'grant-role': {
      const role = c.grantedRole;
      const member = c.grantee;
      if (!role || !member || member === 'PUBLIC') return;
      ensure(role);
      ensure(member);
      const key = memberKey(role, member);
      const old = members.get(key);
      const admin = c.withOption ?? false;
      if (old && (old.admin_option === true || !admin)) return; // already a member: PostgreSQL keeps the row
      members.set(key, { server: c.server, role_name: role, member, admin_option: admin, grantor: c.grantor ?? who, granted_at: c.loggedAt });
      return;
    }
    case 'revoke-role': {
      if (c.grantedRole && c.grantee) members.delete(memberKey(c.grantedRole, c.grantee));
      return;
    }
    case 'revoke-admin-option': {
      const row = c.grantedRole && c.grantee ? members.get(memberKey(c.grantedRole, c.grantee)) : undefined;
      if (row) row.admin_option = false;
      return;
    }
    case 'alter-role':
      return;
    default:
      return; // object privileges, settings, ownership: not part of pg_roles / pg_auth_members
  }
}
