/**
 * What `auditduck export` may export and by which time column its range is cut. A table is exported
 * only if it is named here; the SQL is built from this table, never from the user's text.
 */
export const EXPORT_TIME_COLUMNS = {
  log_records: 'logged_at',
  audit_events: 'logged_at',
  sessions: 'started_at',
  auth_failures: 'logged_at',
  privilege_changes: 'logged_at',
  dead_letters: 'ingested_at',
  roles: null,
  role_memberships: 'granted_at',
  alerts: 'first_seen',
  control_plane_events: 'logged_at',
  source_positions: 'updated_at',
} as const satisfies Record<string, string | null>;

export type ExportTable = keyof typeof EXPORT_TIME_COLUMNS;

export function isExportTable(name: string): name is ExportTable {
  return Object.hasOwn(EXPORT_TIME_COLUMNS, name);
}

/**
 * The SELECT for a table and an optional range [since, until). A table without a time column (roles is
 * the state now) is exported whole. Bounds are parameters ($since, $until), bound as ISO times.
 */
export function exportSql(table: ExportTable, range: { since?: string; until?: string }): { sql: string; params: Record<string, string> } {
  const column = EXPORT_TIME_COLUMNS[table];
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (column === null) {
    if (range.since || range.until) throw new Error(`${table} has no time column: export it without --since/--until`);
  } else {
    if (range.since) {
      where.push(`${column} >= CAST($since AS TIMESTAMPTZ)`);
      params.since = range.since;
    }
    if (range.until) {
      where.push(`${column} < CAST($until AS TIMESTAMPTZ)`);
      params.until = range.until;
    }
  }
  const order = column === null ? '' : ` ORDER BY ${column}`;
  return { sql: `SELECT * FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`, params };
}
