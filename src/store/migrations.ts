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
];
