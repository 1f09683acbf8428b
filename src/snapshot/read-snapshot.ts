/**
 * What a live server shows, read in one REPEATABLE READ, READ ONLY transaction so every catalog is seen
 * at the same instant, and `taken_at` is the server's own clock (the trail's timestamps come from that
 * clock too, so windows between snapshots line up with the logs even when this machine's clock drifts).
 *
 * Only pg_roles (readable by every role, also on Azure where pg_authid is not) is required. pg_authid is
 * read when it is readable (a superuser, self-hosted) and only for booleans: whether a password is set and
 * whether it is an MD5 hash; the hash itself never leaves the server.
 */
import type pg from 'pg';
import { REDACTED, redactConnectionString } from '../redact/index.js';
import { ENTRA_LABEL_PROVIDER, parseEntraLabel } from '../analyze/privileges/entra-principals.js';

export const WATCHED_SETTINGS = [
  'password_encryption', 'ssl', 'ssl_min_protocol_version', 'require_secure_transport', 'pgaudit.log',
  'pgaudit.log_catalog', 'pgaudit.log_relation', 'log_connections', 'log_disconnections', 'log_statement',
  'shared_preload_libraries', 'server_version',
] as const;

export interface SnapshotRole {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolconnlimit: number;
  /** `infinity`, an ISO 8601 UTC time, or null (no expiry). */
  rolvaliduntil: string | null;
  rolbypassrls: boolean;
  /** null when pg_authid is not readable (Azure). */
  has_password: boolean | null;
  password_md5: boolean | null;
  /** From the role's pgaadauth label (pg_shseclabel): `entra` or `postgres`; all four null or absent when it is not readable. */
  auth_kind?: string | null;
  entra_type?: string | null;
  entra_oid?: string | null;
  entra_admin?: boolean | null;
}

export interface SnapshotMembership {
  role_name: string;
  member: string;
  grantor: string | null;
  admin_option: boolean;
  /** PostgreSQL 16+ only; null before. */
  inherit_option: boolean | null;
  set_option: boolean | null;
}

export interface SnapshotRoleSetting {
  role_name: string | null;
  database_name: string | null;
  name: string;
  value: string;
}

export interface SnapshotSetting {
  name: string;
  setting: string;
  source: string | null;
}

export interface ServerSnapshot {
  server: string;
  takenAt: Date;
  serverVersionNum: number;
  readAs: string;
  roles: SnapshotRole[];
  memberships: SnapshotMembership[];
  roleSettings: SnapshotRoleSetting[];
  settings: SnapshotSetting[];
  /** What could not be read with this role's grants (e.g. `pg_authid`), so readers know why a column is NULL. */
  unreadable: string[];
}

const VALID_UNTIL = `CASE WHEN r.rolvaliduntil IS NULL THEN NULL WHEN r.rolvaliduntil = 'infinity' THEN 'infinity'
  WHEN r.rolvaliduntil = '-infinity' THEN '-infinity'
  ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END`;

export async function readSnapshot(client: pg.Client, server: string): Promise<ServerSnapshot> {
  await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const head = await client.query<{ taken_at: Date; version: string; read_as: string; authid: boolean; role_setting: boolean; seclabel: boolean }>(
      `SELECT clock_timestamp() AS taken_at, current_setting('server_version_num') AS version, current_user AS read_as,
              has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS authid,
              has_table_privilege('pg_catalog.pg_db_role_setting', 'SELECT') AS role_setting,
              has_table_privilege('pg_catalog.pg_shseclabel', 'SELECT') AS seclabel`,
    );
    const h = head.rows[0]!;
    const versionNum = Number(h.version);
    const unreadable: string[] = [];
    if (!h.authid) unreadable.push('pg_authid');
    if (!h.role_setting) unreadable.push('pg_db_role_setting');
    if (!h.seclabel) unreadable.push('pg_shseclabel');

    const password = h.authid
      ? `a.rolpassword IS NOT NULL AS has_password, coalesce(a.rolpassword LIKE 'md5%', false) AS password_md5`
      : `NULL::boolean AS has_password, NULL::boolean AS password_md5`;
    // A role's Entra mapping is its pgaadauth label (pg_shseclabel holds the labels of roles).
    const label = h.seclabel
      ? `(SELECT l.label FROM pg_catalog.pg_shseclabel l WHERE l.objoid = r.oid AND l.classoid = 'pg_catalog.pg_authid'::regclass
           AND l.provider = '${ENTRA_LABEL_PROVIDER}') AS entra_label`
      : `NULL::text AS entra_label`;
    const roles = await client.query<Omit<SnapshotRole, 'auth_kind' | 'entra_type' | 'entra_oid' | 'entra_admin'> & { entra_label: string | null }>(
      `SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
              r.rolconnlimit, ${VALID_UNTIL} AS rolvaliduntil, r.rolbypassrls, ${password}, ${label}
       FROM pg_catalog.pg_roles r ${h.authid ? 'JOIN pg_catalog.pg_authid a ON a.oid = r.oid' : ''}
       ORDER BY r.rolname`,
    );
    const options = versionNum >= 160000 ? 'm.inherit_option, m.set_option' : 'NULL::boolean AS inherit_option, NULL::boolean AS set_option';
    const memberships = await client.query<SnapshotMembership>(
      `SELECT r.rolname AS role_name, u.rolname AS member, g.rolname AS grantor, m.admin_option, ${options}
       FROM pg_catalog.pg_auth_members m
       JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
       JOIN pg_catalog.pg_roles u ON u.oid = m.member
       LEFT JOIN pg_catalog.pg_roles g ON g.oid = m.grantor
       ORDER BY 1, 2, 3`,
    );
    const roleSettings = h.role_setting
      ? await client.query<{ role_name: string | null; database_name: string | null; config: string[] }>(
          `SELECT r.rolname AS role_name, d.datname AS database_name, s.setconfig AS config
           FROM pg_catalog.pg_db_role_setting s
           LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
           LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
           ORDER BY 1, 2`,
        )
      : { rows: [] };
    const settings = await client.query<SnapshotSetting>(
      `SELECT name, setting, source FROM pg_catalog.pg_settings WHERE name = ANY($1::text[]) ORDER BY name`,
      [[...WATCHED_SETTINGS]],
    );
    await client.query('COMMIT');
    return {
      server,
      takenAt: h.taken_at,
      serverVersionNum: versionNum,
      readAs: h.read_as,
      roles: roles.rows.map(({ entra_label, ...r }) => ({ ...r, ...entraColumns(h.seclabel, entra_label) })),
      memberships: memberships.rows,
      roleSettings: roleSettings.rows.flatMap((r) => (r.config ?? []).map((kv) => splitSetting(r.role_name, r.database_name, kv))),
      settings: settings.rows,
      unreadable,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function entraColumns(readable: boolean, label: string | null): Pick<SnapshotRole, 'auth_kind' | 'entra_type' | 'entra_oid' | 'entra_admin'> {
  if (!readable) return { auth_kind: null, entra_type: null, entra_oid: null, entra_admin: null };
  const entra = label === null ? null : parseEntraLabel(label);
  if (!entra) return { auth_kind: 'postgres', entra_type: null, entra_oid: null, entra_admin: null };
  return { auth_kind: 'entra', entra_type: entra.type, entra_oid: entra.objectId, entra_admin: entra.admin };
}

/** `name=value` as stored in setconfig; the value may itself contain `=`. */
function splitSetting(role: string | null, database: string | null, kv: string): SnapshotRoleSetting {
  const i = kv.indexOf('=');
  const name = i < 0 ? kv : kv.slice(0, i);
  const value = i < 0 ? '' : kv.slice(i + 1);
  // A custom setting may hold a credential (`ALTER ROLE app SET myapp.api_key = ...`): keep only that it exists.
  const secret = SECRET_SETTING.test(name);
  return { role_name: role, database_name: database, name, value: secret ? REDACTED : redactConnectionString(value) };
}

const SECRET_SETTING = /pass|secret|key|token|credential/i;
