/**
 * What the lake holds, one entry per store table: the layout every reader relies on (docs/lake.md).
 *
 * - `events` tables only grow: each segment holds the rows appended since the last one, hive-partitioned
 *   `<folder>/server=<server>/date=<YYYY-MM-DD>/part-<segment>-<n>.parquet`, sorted by time. A row is in
 *   exactly one segment.
 * - `changes` tables (sessions) change rows in place, each change numbered: a segment holds the rows changed
 *   since the last one, `<folder>/part-<segment>.parquet`; a row's version with the highest number is current.
 * - `revisions` tables (alerts) change rows in place without numbering them: a segment holds the rows that differ
 *   from what the lake holds, `<folder>/part-<segment>.parquet`; a row's version in the newest segment is current.
 * - `state` tables are rewritten in place by the pipeline (rebuilt roles): a segment holds the whole table when it
 *   changed since the last one, `<folder>/snapshot=<segment>/part-<segment>.parquet`; the latest snapshot is the
 *   table.
 *
 * `version` is the table's lake schema version: a change to its columns gets a new version and a new folder
 * (`audit_events_v2/`), so files already written are never rewritten and old readers keep working.
 */
export interface EventTable {
  kind: 'events';
  version: number;
  /** The time the rows are sorted and partitioned by. */
  time: string;
  /** Whether rows carry a `server` column to partition by. */
  byServer: boolean;
}

/**
 * A table whose rows change in place, each change numbered by a column the store sets: a segment holds the rows
 * changed since the last one, as they are then, in one file; the row with the highest number is the current one.
 */
export interface ChangesTable {
  kind: 'changes';
  version: number;
  /**
   * The column numbering the changes: a store-wide sequence, taken in commit order because only the store's
   * writer changes the table (a parallel ingest's workers write side by side, but export only after they end).
   */
  change: string;
  /** The columns that name a row across its versions. */
  key: readonly string[];
}

/**
 * A table whose rows change in place with no number of their own, on more than one connection: a segment holds the
 * rows that differ from what the lake holds (the export keeps a hash of each in `lake_revisions`), as they are
 * then, in one file; a row's version in the newest segment is the current one.
 */
export interface RevisionsTable {
  kind: 'revisions';
  version: number;
  /** The columns that name a row across its versions. */
  key: readonly string[];
}

export interface StateTable {
  kind: 'state';
  version: number;
}

export type LakeTable = EventTable | ChangesTable | RevisionsTable | StateTable;

export const LAKE_TABLES = {
  log_lines: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  audit_events: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  auth_failures: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  privilege_changes: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  control_plane_events: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  // What late attribution filled into rows already stored (and maybe exported): the lake's views apply it (attribution-fills.ts).
  attribution_fills: { kind: 'events', version: 1, time: 'filled_at', byServer: true },
  // Which privilege changes an alert stands on (the alert page's evidence, session-alerts): written once with the alert.
  alert_changes: { kind: 'events', version: 1, time: 'logged_at', byServer: true },
  dead_letters: { kind: 'events', version: 1, time: 'ingested_at', byServer: false },
  // Live snapshots, posture findings and drift only gain rows (a watched server's roles and settings at each
  // snapshot). Version 1 wrote each whole at every change, so the lake grew with the square of the store's age.
  // Few rows a segment: one file per day, `server` a column.
  snapshots: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  role_snapshots: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  membership_snapshots: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  role_setting_snapshots: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  setting_snapshots: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  posture_findings: { kind: 'events', version: 2, time: 'taken_at', byServer: false },
  // A window's drift and the window itself share its end: the same day's files.
  drift: { kind: 'events', version: 2, time: 'window_end', byServer: false },
  drift_windows: { kind: 'events', version: 2, time: 'window_end', byServer: false },
  // Version 1 wrote every session at each export, however few had changed: the lake grew with the square of the
  // store's age. Version 2 adds `change_seq` (migration 17) and writes only the sessions changed.
  sessions: { kind: 'changes', version: 2, change: 'change_seq', key: ['server', 'session_id'] },
  roles: { kind: 'state', version: 1 },
  role_memberships: { kind: 'state', version: 1 },
  // Version 1 wrote every alert whenever one changed (one grows each batch while an attack goes on).
  alerts: { kind: 'revisions', version: 2, key: ['alert_id'] },
} as const satisfies Record<string, LakeTable>;

export type LakeTableName = keyof typeof LAKE_TABLES;

/**
 * The store's own bookkeeping (positions, delivery attempts, the lake's segments and the hashes of the alerts it holds,
 * retention's horizons, the outbox's key table, a copy of columns of `alerts`, and detection's list of changes its
 * rules have not judged): every other table is in the lake.
 */
export const TABLES_NOT_IN_LAKE = ['source_positions', 'alert_deliveries', 'lake_segments', 'lake_revisions', 'schema_version', 'alert_keys', 'hot_horizons', 'unjudged_changes'] as const;

export const LAKE_TABLE_NAMES = Object.keys(LAKE_TABLES) as LakeTableName[];

/** The table's folder in the lake: its name for version 1, `<name>_v<n>` after a schema change. */
export function lakeFolder(name: LakeTableName): string {
  const { version } = LAKE_TABLES[name];
  return version === 1 ? name : `${name}_v${version}`;
}
