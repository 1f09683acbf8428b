/**
 * The store's schema, as an ordered list of migrations. A database records the last version it ran in
 * `schema_version`; opening it runs the rest in one transaction each. Append, never edit a released step:
 * other tools read these tables (DESIGN.md "Contracts").
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'ingest core: log records, audit events, sessions, auth failures, dead letters, positions',
    sql: `
      CREATE TABLE log_records (
        server VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, session_id VARCHAR, pid INTEGER,
        level VARCHAR, sqlstate VARCHAR, message VARCHAR, detail VARCHAR, hint VARCHAR, statement VARCHAR,
        kind VARCHAR NOT NULL, source VARCHAR NOT NULL, position VARCHAR NOT NULL
      );
      CREATE TABLE audit_events (
        server VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, session_id VARCHAR, pid INTEGER,
        audit_type VARCHAR NOT NULL, statement_id BIGINT, substatement_id BIGINT, class VARCHAR NOT NULL,
        command VARCHAR, object_type VARCHAR, object_name VARCHAR, statement VARCHAR, parameter VARCHAR,
        rows BIGINT, user_name VARCHAR, database_name VARCHAR, client_addr VARCHAR, application_name VARCHAR,
        level VARCHAR, source VARCHAR NOT NULL, position VARCHAR NOT NULL
      );
      CREATE TABLE sessions (
        server VARCHAR NOT NULL, session_id VARCHAR NOT NULL, pid INTEGER, started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ, user_name VARCHAR, database_name VARCHAR, application_name VARCHAR,
        client_addr VARCHAR, client_port INTEGER, auth_method VARCHAR, auth_identity VARCHAR, ssl BOOLEAN,
        ssl_protocol VARCHAR, ssl_cipher VARCHAR, replication BOOLEAN,
        PRIMARY KEY (server, session_id)
      );
      CREATE TABLE auth_failures (
        server VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, session_id VARCHAR, pid INTEGER,
        user_name VARCHAR, database_name VARCHAR, client_addr VARCHAR, sqlstate VARCHAR, reason VARCHAR,
        detail VARCHAR, role_exists BOOLEAN, source VARCHAR NOT NULL, position VARCHAR NOT NULL
      );
      CREATE TABLE dead_letters (
        source VARCHAR NOT NULL, position VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR,
        ingested_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE source_positions (
        source_key VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, position VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'privilege analysis: privilege changes, rebuilt roles and memberships',
    sql: `
      CREATE TABLE privilege_changes (
        server VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, session_id VARCHAR, actor VARCHAR,
        acting_role VARCHAR, action VARCHAR NOT NULL, role_name VARCHAR, attribute VARCHAR, value VARCHAR,
        granted_role VARCHAR, privileges VARCHAR[], object_type VARCHAR, object_name VARCHAR, grantee VARCHAR,
        with_option BOOLEAN, grantor VARCHAR, statement VARCHAR, effective BOOLEAN NOT NULL DEFAULT true,
        truncated BOOLEAN NOT NULL DEFAULT false, uncertain VARCHAR[], password_strength JSON, seq BIGINT,
        source VARCHAR, position VARCHAR
      );
      CREATE TABLE roles (
        server VARCHAR NOT NULL, rolname VARCHAR NOT NULL, rolsuper BOOLEAN, rolinherit BOOLEAN,
        rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN,
        rolconnlimit INTEGER, rolvaliduntil VARCHAR, rolbypassrls BOOLEAN, has_password BOOLEAN,
        created_at TIMESTAMPTZ, created_by VARCHAR, password_changed_at TIMESTAMPTZ,
        uncertain VARCHAR[] NOT NULL DEFAULT [],
        PRIMARY KEY (server, rolname)
      );
      CREATE TABLE role_memberships (
        server VARCHAR NOT NULL, role_name VARCHAR NOT NULL, member VARCHAR NOT NULL, admin_option BOOLEAN,
        grantor VARCHAR, granted_at TIMESTAMPTZ,
        PRIMARY KEY (server, role_name, member)
      );
    `,
  },
  {
    version: 3,
    description: 'live snapshots: roles, memberships, role settings and settings as a server showed them; drift against the trail; posture findings',
    sql: `
      CREATE TABLE snapshots (
        snapshot_id VARCHAR PRIMARY KEY, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL,
        server_version_num INTEGER, read_as VARCHAR, unreadable VARCHAR[] NOT NULL DEFAULT []
      );
      CREATE TABLE role_snapshots (
        snapshot_id VARCHAR NOT NULL, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL, rolname VARCHAR NOT NULL,
        rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN,
        rolreplication BOOLEAN, rolconnlimit INTEGER, rolvaliduntil VARCHAR, rolbypassrls BOOLEAN,
        has_password BOOLEAN, password_md5 BOOLEAN,
        PRIMARY KEY (snapshot_id, rolname)
      );
      CREATE TABLE membership_snapshots (
        snapshot_id VARCHAR NOT NULL, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL, role_name VARCHAR NOT NULL,
        member VARCHAR NOT NULL, grantor VARCHAR, admin_option BOOLEAN, inherit_option BOOLEAN, set_option BOOLEAN
      );
      CREATE TABLE role_setting_snapshots (
        snapshot_id VARCHAR NOT NULL, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL, role_name VARCHAR,
        database_name VARCHAR, name VARCHAR NOT NULL, value VARCHAR
      );
      CREATE TABLE setting_snapshots (
        snapshot_id VARCHAR NOT NULL, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL, name VARCHAR NOT NULL,
        setting VARCHAR, source VARCHAR,
        PRIMARY KEY (snapshot_id, name)
      );
      CREATE TABLE drift (
        server VARCHAR NOT NULL, role VARCHAR NOT NULL, kind VARCHAR NOT NULL, attribute VARCHAR, granted_role VARCHAR,
        before VARCHAR, after VARCHAR, window_start TIMESTAMPTZ NOT NULL, window_end TIMESTAMPTZ NOT NULL,
        explained BOOLEAN NOT NULL DEFAULT false, from_snapshot_id VARCHAR NOT NULL, to_snapshot_id VARCHAR NOT NULL,
        detected_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE drift_windows (
        server VARCHAR NOT NULL, from_snapshot_id VARCHAR NOT NULL, to_snapshot_id VARCHAR NOT NULL,
        window_start TIMESTAMPTZ NOT NULL, window_end TIMESTAMPTZ NOT NULL, unexplained INTEGER NOT NULL,
        evaluated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (from_snapshot_id, to_snapshot_id)
      );
      CREATE TABLE posture_findings (
        snapshot_id VARCHAR NOT NULL, server VARCHAR NOT NULL, taken_at TIMESTAMPTZ NOT NULL, check_id VARCHAR NOT NULL,
        severity VARCHAR NOT NULL, subject VARCHAR, value VARCHAR, summary VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'detection: alerts (the outbox), the privilege changes behind each alert, delivery state per sink',
    sql: `
      CREATE SEQUENCE alert_id_seq START 1;
      -- No primary keys: DuckDB rewrites an indexed row on UPDATE and can report a false duplicate when the
      -- same alert grows twice in one transaction. alert_id is unique by its sequence.
      CREATE TABLE alerts (
        alert_id BIGINT NOT NULL DEFAULT nextval('alert_id_seq'), rule_id VARCHAR NOT NULL, severity VARCHAR NOT NULL,
        server VARCHAR NOT NULL, first_seen TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL, actor VARCHAR,
        target VARCHAR, summary VARCHAR NOT NULL, evidence JSON, mitre VARCHAR, status VARCHAR NOT NULL DEFAULT 'open',
        dedup_key VARCHAR NOT NULL, count BIGINT NOT NULL DEFAULT 1, created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), acknowledged_at TIMESTAMPTZ, acknowledged_by VARCHAR
      );
      CREATE TABLE alert_changes (
        alert_id BIGINT NOT NULL, server VARCHAR NOT NULL, session_id VARCHAR, logged_at TIMESTAMPTZ NOT NULL, seq BIGINT
      );
      CREATE TABLE alert_deliveries (
        alert_id BIGINT NOT NULL, sink VARCHAR NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ, delivered_at TIMESTAMPTZ, last_error VARCHAR
      );
    `,
  },
  {
    version: 5,
    description: 'control plane: Azure Activity Log changes to servers (firewall, parameters, admins, diagnostic settings)',
    sql: `
      -- One row per Activity Log record about a server (Start, Accept, Success, Failure alike); an outcome's
      -- requested_value comes from its Start (requested_from = 'start') when its own record lacks one.
      -- properties is the record's properties object, redacted (no password, key or secret value).
      CREATE TABLE control_plane_events (
        server VARCHAR NOT NULL, logged_at TIMESTAMPTZ NOT NULL, operation VARCHAR NOT NULL, action VARCHAR NOT NULL,
        status VARCHAR, caller VARCHAR, caller_type VARCHAR, caller_role VARCHAR, caller_ip VARCHAR,
        correlation_id VARCHAR, target VARCHAR, requested_value VARCHAR, requested_from VARCHAR,
        subscription VARCHAR, resource_group VARCHAR, resource_id VARCHAR NOT NULL, category VARCHAR, level VARCHAR,
        result_signature VARCHAR, status_code VARCHAR, duration_ms BIGINT, properties JSON,
        source VARCHAR NOT NULL, position VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 6,
    description: 'audit lines stored once: log_records becomes log_lines, audit events say whether their line is there',
    sql: `
      -- An audit line was stored twice, as its log record and as its audit event: the record is now rendered
      -- from the event, as pgaudit wrote it, by the view of version 7 (render-audit-message.ts does the same
      -- in TypeScript). Lines the rendering would not give back exactly (a DETAIL, a <not logged> statement)
      -- stay whole in log_lines, and their event says so with line_stored.
      ALTER TABLE log_records RENAME TO log_lines;
      ALTER TABLE audit_events ADD COLUMN line_stored BOOLEAN DEFAULT true;
    `,
  },
  {
    version: 7,
    description: 'audit lines stored once: the log_records view',
    sql: `
      -- Apart from version 6: DuckDB cannot commit two ADD COLUMNs to one table in one transaction. The event
      -- keeps its line's SQLSTATE (00000 in raw PostgreSQL logs, NULL from Azure) for the view.
      ALTER TABLE audit_events ADD COLUMN sqlstate VARCHAR;
      CREATE MACRO pgaudit_csv_field(v) AS
        CASE WHEN v IS NULL THEN ''
             WHEN contains(v, ',') OR contains(v, '"') OR contains(v, chr(13)) OR contains(v, chr(10)) THEN '"' || replace(v, '"', '""') || '"'
             ELSE v END;
      CREATE VIEW log_records AS
        SELECT server, logged_at, session_id, pid, level, sqlstate, message, detail, hint, statement, kind, source, position
        FROM log_lines
        UNION ALL
        SELECT server, logged_at, session_id, pid, level, sqlstate,
          'AUDIT: ' || pgaudit_csv_field(audit_type) || ',' || statement_id::VARCHAR || ',' || substatement_id::VARCHAR || ','
            || pgaudit_csv_field(class) || ',' || pgaudit_csv_field(command) || ',' || pgaudit_csv_field(object_type) || ','
            || pgaudit_csv_field(object_name) || ',' || CASE WHEN statement IS NULL THEN '<previously logged>' ELSE pgaudit_csv_field(statement) END || ','
            || pgaudit_csv_field(parameter) || coalesce(',' || rows::VARCHAR, '') AS message,
          NULL::VARCHAR AS detail, NULL::VARCHAR AS hint, NULL::VARCHAR AS statement, 'audit' AS kind, source, position
        FROM audit_events
        WHERE NOT line_stored;
    `,
  },
  {
    version: 8,
    description: 'Microsoft Entra principals: how each rebuilt and snapshotted role authenticates, and its pgaadauth mapping',
    sql: `
      -- auth_kind: 'entra' (a pgaadauth label maps the role to an Entra object) or 'postgres'; NULL when unknown.
      -- entra_mfa comes only from the creating call (pgaadauth_create_principal's isMfa): snapshots cannot tell it.
      ALTER TABLE roles ADD COLUMN auth_kind VARCHAR;
      ALTER TABLE roles ADD COLUMN entra_type VARCHAR;
      ALTER TABLE roles ADD COLUMN entra_oid VARCHAR;
      ALTER TABLE roles ADD COLUMN entra_admin BOOLEAN;
      ALTER TABLE roles ADD COLUMN entra_mfa BOOLEAN;
      ALTER TABLE role_snapshots ADD COLUMN auth_kind VARCHAR;
      ALTER TABLE role_snapshots ADD COLUMN entra_type VARCHAR;
      ALTER TABLE role_snapshots ADD COLUMN entra_oid VARCHAR;
      ALTER TABLE role_snapshots ADD COLUMN entra_admin BOOLEAN;
    `,
  },
  {
    version: 9,
    description: 'sessions.local_client: the client connected from the server itself (loopback or Unix socket), as Azure PgBouncer does',
    sql: `
      ALTER TABLE sessions ADD COLUMN local_client BOOLEAN;
      -- The sessions stored before: the same test as isLocalClient (src/analyze/sessions/local-client.ts).
      UPDATE sessions SET local_client = (client_addr IN ('::1', '[local]') OR lower(client_addr) = 'localhost'
        OR regexp_full_match(client_addr, '(::ffff:)?127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}'))
      WHERE client_addr IS NOT NULL;
    `,
  },
  {
    version: 10,
    description: 'alerts.ack_comment: what the person who acknowledged an alert wrote about it (alerts ack --comment)',
    sql: `
      ALTER TABLE alerts ADD COLUMN ack_comment VARCHAR;
    `,
  },
  {
    version: 11,
    description: 'the audit lake: each segment exported to Parquet, staged then published (src/lake/)',
    sql: `
      -- One row per segment, written in the transaction that staged its files: a segment is either staged
      -- (files written locally, not yet in the lake), or published (in the lake, its manifest entry written).
      -- ranges: per table the rowids it covers, {"audit_events": [from, to]}; files: path, rows, min/max time.
      CREATE TABLE lake_segments (
        seq INTEGER PRIMARY KEY, segment VARCHAR NOT NULL, state VARCHAR NOT NULL, positions JSON NOT NULL,
        ranges JSON NOT NULL, files JSON NOT NULL, created_at TIMESTAMPTZ NOT NULL, entry_hash VARCHAR
      );
    `,
  },
  {
    version: 12,
    description: 'alerts.ack_classification: what the person who acknowledged an alert judged it (true-positive, benign, false-positive)',
    sql: `
      ALTER TABLE alerts ADD COLUMN ack_classification VARCHAR;
    `,
  },
  {
    version: 13,
    description: 'alert_keys: the outbox looks up the alerts a finding may grow here, not in alerts (issue 21)',
    sql: `
      -- One row per alert the outbox may grow: a detection rule's alert that is not retracted (its rule, server,
      -- dedup key and seen span, kept in step with alerts by the outbox and the retraction). A batch's look-up
      -- reads these six narrow columns instead of alerts, whose evidence and texts grow with every alert.
      -- No primary key, as alerts: DuckDB can report a false duplicate when a row is updated twice in one
      -- transaction. Drift and pipeline alerts (ids with a dot) are written once and never grown: not here.
      CREATE TABLE alert_keys (
        rule_id VARCHAR NOT NULL, server VARCHAR NOT NULL, dedup_key VARCHAR NOT NULL, alert_id BIGINT NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL
      );
      INSERT INTO alert_keys SELECT rule_id, server, dedup_key, alert_id, first_seen, last_seen FROM alerts
        WHERE status <> 'retracted' AND rule_id NOT LIKE '%.%' ORDER BY alert_id;
    `,
  },
  {
    version: 14,
    description: 'hot_horizons: what hot retention dropped, so a query reads those rows from the lake (issue 18)',
    sql: `
      -- One row per retention pass that dropped rows: every row of lake segments up to through_seq older than
      -- before is gone from the store (and nothing else is). Passes a later one covers are deleted.
      CREATE TABLE hot_horizons (before TIMESTAMPTZ NOT NULL, through_seq INTEGER NOT NULL);
    `,
  },
  {
    version: 15,
    description: 'attribution_fills: what late attribution filled into rows already stored, so the lake applies it too (issues 17, 18)',
    sql: `
      -- One row per session and late attribution that brought a value its earlier fills lack: the session's user,
      -- database, client and application as the store filled them in (NULL: not known then), when, and the batch
      -- (source, position) that brought them. Only appended, in the transaction of the UPDATE it records: the lake
      -- exports it like any events table and its views apply it to rows exported before it (docs/lake.md).
      CREATE TABLE attribution_fills (
        server VARCHAR NOT NULL, session_id VARCHAR NOT NULL, user_name VARCHAR, database_name VARCHAR,
        client_addr VARCHAR, application_name VARCHAR, filled_at TIMESTAMPTZ NOT NULL, source VARCHAR NOT NULL,
        position VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 16,
    description: 'unjudged_changes: privilege changes stored ineffective that no detection rule has judged yet (issue 17)',
    sql: `
      -- One row per privilege_changes row stored ineffective (rolled back, or open at its session's disconnection)
      -- that the rules have not judged: a COMMIT read late (a hub's partitions read out of order) may take it into
      -- effect, and the rules then judge it as if it had arrived effective, once. Its row leaves then. Written and read
      -- by detection in the batch's transaction (src/detect/unjudged-changes.ts).
      CREATE TABLE unjudged_changes (
        server VARCHAR NOT NULL, session_id VARCHAR, logged_at TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL
      );
    `,
  },
  {
    version: 17,
    description: 'sessions.change_seq: the order in which sessions last changed, so the lake exports only those a segment changed (issue 18)',
    sql: `
      -- Set from session_change_seq each time a batch merges a session (audit-store.ts): the lake writes the sessions
      -- with a change_seq above its last segment's, and readers take each session's row with the highest. Sessions
      -- stored before this migration have 0: the first segment after it writes them all.
      CREATE SEQUENCE IF NOT EXISTS session_change_seq START 1;
      ALTER TABLE sessions ADD COLUMN IF NOT EXISTS change_seq BIGINT DEFAULT 0;
    `,
  },
  {
    version: 18,
    description: 'lake_revisions: the hash of each alert as the lake holds it, so the lake exports only the alerts that changed (issue 18)',
    sql: `
      -- Written by the lake export alone, in the transaction that records its segment: a row of the table named whose
      -- hash differs from the one here (or that has none) goes into the next segment. Alerts change on several
      -- connections (drift alerts on the snapshot schedule's), so no number taken when they change would follow the
      -- order in which they commit; a hash of what the lake holds does not need one.
      CREATE TABLE IF NOT EXISTS lake_revisions (
        table_name VARCHAR NOT NULL, row_key VARCHAR NOT NULL, row_hash UBIGINT NOT NULL, PRIMARY KEY (table_name, row_key)
      );
    `,
  },
];
