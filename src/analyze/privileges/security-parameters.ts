import type { VariableSetStmt } from 'libpg-query';

/**
 * Parameters whose change weakens or blinds auditing, authentication or transport security. SET and
 * ALTER DATABASE … SET record only these; ALTER SYSTEM and ALTER ROLE … SET record every parameter.
 */
const securityPrefixes = ['pgaudit.', 'log_', 'ssl', 'password_', 'auth', 'krb_', 'pgaudit_'];
const securityNames = new Set([
  'password_encryption', 'require_secure_transport', 'row_security', 'session_replication_role',
  'shared_preload_libraries', 'session_preload_libraries', 'local_preload_libraries', 'debug_print_parse',
  'logging_collector', 'scram_iterations', 'db_user_namespace', 'azure.extensions',
]);

export function isSecurityParameter(name: string): boolean {
  const n = name.toLowerCase();
  return securityNames.has(n) || securityPrefixes.some((p) => n.startsWith(p));
}

/** The value of SET/ALTER … SET as SQL would show it: `'a', 'b'`, `0`, `DEFAULT`. */
export function settingValue(s: VariableSetStmt): string | null {
  if (s.kind === 'VAR_SET_DEFAULT') return 'DEFAULT';
  if (s.kind === 'VAR_SET_CURRENT') return 'FROM CURRENT';
  if (s.kind === 'VAR_RESET' || s.kind === 'VAR_RESET_ALL') return null;
  const parts = (s.args ?? []).map((a) => {
    if (!('A_Const' in a)) return '?';
    const c = a.A_Const;
    if (c.sval) return c.sval.sval ?? '';
    if (c.ival) return String(c.ival.ival ?? 0);
    if (c.fval) return c.fval.fval ?? '';
    if (c.boolval) return String(c.boolval.boolval ?? false);
    if (c.isnull) return 'NULL';
    return '?';
  });
  return parts.length ? parts.join(', ') : null;
}
