/**
 * Posture findings: settings and roles of a snapshot that weaken authentication or auditing. Each check
 * is a row of the table below (id, severity, what it looks at), so the docs, the findings and the tests
 * agree. Pure: the caller passes the snapshot and, per role, when the trail last saw its password change.
 */
import type { ServerSnapshot, SnapshotRole } from './read-snapshot.js';

export type Severity = 'high' | 'medium' | 'low';

export interface PostureFinding {
  check_id: string;
  severity: Severity;
  /** The setting or role the finding is about. */
  subject: string;
  value: string | null;
  summary: string;
}

export interface PostureContext {
  snapshot: ServerSnapshot;
  /** From the trail (`roles.password_changed_at`); absent when the trail never saw one. */
  passwordChangedAt: ReadonlyMap<string, Date | null>;
  passwordMaxAgeDays: number;
}

type Check = (ctx: PostureContext, setting: (name: string) => string | undefined) => Omit<PostureFinding, 'check_id' | 'severity'>[];

/** Roles the platform manages; customers cannot change them (Azure's own administrator of the service). */
const PLATFORM_ROLES = new Set(['azuresu', 'azure_superuser']);

const TLS_ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export const POSTURE_CHECKS: readonly { id: string; severity: Severity; describe: string; check: Check }[] = [
  {
    id: 'posture.password-encryption-md5',
    severity: 'high',
    describe: 'password_encryption is md5: new passwords are stored as unsalted-by-server MD5 hashes, replayable and deprecated',
    check: (_ctx, s) => (s('password_encryption') === 'md5' ? [{ subject: 'password_encryption', value: 'md5', summary: 'password_encryption = md5: new passwords are stored as MD5 hashes; set it to scram-sha-256' }] : []),
  },
  {
    id: 'posture.weak-tls-minimum',
    severity: 'high',
    describe: 'ssl_min_protocol_version below TLSv1.2',
    check: (_ctx, s) => {
      const v = s('ssl_min_protocol_version');
      if (v === undefined) return [];
      const rank = TLS_ORDER.indexOf(v);
      return rank >= 0 && rank >= TLS_ORDER.indexOf('TLSv1.2') ? [] : [{ subject: 'ssl_min_protocol_version', value: v, summary: `ssl_min_protocol_version = ${v || "''"}: clients may use TLS older than 1.2; set TLSv1.2 or later` }];
    },
  },
  {
    id: 'posture.secure-transport-off',
    severity: 'high',
    describe: 'TLS is off (ssl) or not required (Azure require_secure_transport)',
    check: (_ctx, s) => [
      ...(s('ssl') === 'off' ? [{ subject: 'ssl', value: 'off', summary: 'ssl = off: passwords and data cross the network in clear text' }] : []),
      ...(s('require_secure_transport') === 'off' ? [{ subject: 'require_secure_transport', value: 'off', summary: 'require_secure_transport = off: clients may connect without TLS' }] : []),
    ],
  },
  {
    id: 'posture.pgaudit-not-logging-role',
    severity: 'high',
    describe: 'pgaudit is not loaded, or pgaudit.log (server-wide or set on a role or database) does not include the ROLE class',
    check: (ctx, s) => {
      const out: Omit<PostureFinding, 'check_id' | 'severity'>[] = [];
      const server = s('pgaudit.log');
      if (server === undefined) {
        const preload = s('shared_preload_libraries') ?? '';
        out.push({ subject: 'shared_preload_libraries', value: preload, summary: 'pgaudit is not loaded: no ROLE audit trail at all (add pgaudit to shared_preload_libraries / azure.extensions)' });
      } else if (!coversRole(server)) {
        out.push({ subject: 'pgaudit.log', value: server, summary: `pgaudit.log = '${server}' does not include ROLE: role, password and GRANT changes are not audited` });
      }
      for (const r of ctx.snapshot.roleSettings) {
        if (r.name !== 'pgaudit.log' || coversRole(r.value)) continue;
        const where = [r.role_name ? `role ${r.role_name}` : null, r.database_name ? `database ${r.database_name}` : null].filter(Boolean).join(' in ');
        out.push({ subject: where || 'all roles and databases', value: r.value, summary: `pgaudit.log = '${r.value}' for ${where}: its role changes escape the audit trail` });
      }
      return out;
    },
  },
  {
    id: 'posture.connections-not-logged',
    severity: 'medium',
    describe: 'log_connections is off: audit lines cannot be tied to a user, database or client address with Azure\'s default prefix',
    check: (_ctx, s) => (s('log_connections') === 'off' ? [{ subject: 'log_connections', value: 'off', summary: "log_connections = off: with Azure's %t-%c- prefix, who ran an audited statement from where cannot be told" }] : []),
  },
  {
    id: 'posture.login-role-without-expiry',
    severity: 'medium',
    describe: 'a role that can log in with a password, VALID UNTIL infinity or no expiry, and no password change for N days',
    check: (ctx) => ctx.snapshot.roles.filter((r) => stalePasswordRole(r, ctx)).map((r) => {
      const changed = ctx.passwordChangedAt.get(r.rolname) ?? null;
      const age = changed ? `last password change ${changed.toISOString()}` : 'no password change in the audit trail';
      return { subject: r.rolname, value: r.rolvaliduntil ?? 'no expiry', summary: `login role ${r.rolname} never expires (${r.rolvaliduntil ?? 'no VALID UNTIL'}), ${age}: older than ${ctx.passwordMaxAgeDays} days or unknown` };
    }),
  },
];

export function postureFindings(ctx: PostureContext): PostureFinding[] {
  const settings = new Map(ctx.snapshot.settings.map((s) => [s.name, s.setting]));
  const setting = (name: string): string | undefined => settings.get(name);
  return POSTURE_CHECKS.flatMap((c) => c.check(ctx, setting).map((f) => ({ check_id: c.id, severity: c.severity, ...f })));
}

/**
 * Whether a pgaudit.log value logs the ROLE class. pgaudit reads the list left to right: `all`/`role` add
 * it, `-all`/`-role` remove it, `none` clears everything.
 */
export function coversRole(value: string): boolean {
  let role = false;
  for (const raw of value.split(',')) {
    const item = raw.trim().toLowerCase();
    const minus = item.startsWith('-');
    const cls = minus ? item.slice(1).trim() : item;
    if (cls === 'none') role = false;
    else if (cls === 'all' || cls === 'role') role = !minus;
  }
  return role;
}

function stalePasswordRole(r: SnapshotRole, ctx: PostureContext): boolean {
  if (!r.rolcanlogin || r.rolname.startsWith('pg_') || PLATFORM_ROLES.has(r.rolname)) return false;
  if (r.has_password === false) return false; // no password: Entra, certificate or peer login only
  if (r.rolvaliduntil !== null && r.rolvaliduntil !== 'infinity') return false;
  const changed = ctx.passwordChangedAt.get(r.rolname) ?? null;
  const maxAgeMs = ctx.passwordMaxAgeDays * 86_400_000;
  return changed === null || ctx.snapshot.takenAt.getTime() - changed.getTime() > maxAgeMs;
}
