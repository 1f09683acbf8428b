/**
 * `auditduck query --fleet`: one read-only query over the stores of several instances (docs/fleet.md).
 * Each member is a store path, read like `auditduck query --db` does (through the running instance's query
 * API, or the file when no instance holds it), or the URL of a peer's query API on another machine
 * (fleet-peer.ts). The tables the SQL names are fetched from every member into
 * an in-memory DuckDB, each row tagged with its `fleet_member`, and a row whose `(source, position)` another
 * member listed earlier also holds is dropped: a batch read twice around a takeover counts once. The SQL
 * then runs there, confined like every other read.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Rows } from './format-rows.js';
import { apiTarget, openQueryTarget, type QueryTarget } from './query-target.js';
import { isPeerUrl, parsePeerUrl, peerEndpoint, peerName } from './fleet-peer.js';
import { fleetTokenFromEnv } from './fleet-tokens.js';
import type { QueryParams } from './read-only-query.js';
import { confineDatabase } from './confine-database.js';
import { queryLimitsFromEnv } from './query-limits.js';
import { ReadOnlySession } from './read-only-session.js';
import { threadsSetting } from '../store/open-database.js';

export interface FleetMember {
  /** How rows of this member are tagged (`fleet_member`): the store's file name without extension, or the peer's host:port. */
  name: string;
  /** A store path, or a peer's URL. */
  db: string;
}

interface Column {
  name: string;
  type: string;
}

/** Store paths and peer URLs → members named after their files (a.duckdb → a) or host:port; two of one name get a suffix. */
export function fleetMembers(dbPaths: readonly string[]): FleetMember[] {
  const seen = new Map<string, number>();
  return dbPaths.map((db) => {
    const base = isPeerUrl(db) ? peerName(parsePeerUrl(db)) : basename(db).replace(/\.[^.]*$/, '') || db;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { name: count === 1 ? base : `${base}-${count}`, db };
  });
}

/** The member tables whose names appear as words in the SQL: only those are fetched. */
export function tablesNamedIn(sql: string, tables: readonly string[]): string[] {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return tables.filter((table) => words.has(table.toLowerCase()));
}

/**
 * Tables whose rows are one per key in a store, not per record, and that two stores may both hold after a
 * takeover: a session whose lines were read partly by the old leader and partly by the new one is in both
 * `sessions` tables, each knowing part of it (the connection lines in one, the disconnection in the other).
 * The fleet shows it once, merged as one store merges what it learns of a session (AuditStore.upsertSessions):
 * the latest start (a store that missed the connection lines has the session id's whole second, the one that
 * read them its millisecond), the latest end, and each other column from the first member (in --fleet order:
 * an instance's own store first) that knows it.
 */
const MERGED_BY_KEY: Readonly<Record<string, { key: readonly string[]; latest: readonly string[] }>> = {
  sessions: { key: ['server', 'session_id'], latest: ['started_at', 'ended_at'] },
};

/**
 * The SELECT over `<table>__all` (every member's rows, tagged) that the fleet's `<table>` is: one copy per
 * (source, position), the rows of the first member that has the key; one row per key for MERGED_BY_KEY; else
 * the union.
 */
export function dedupSelect(table: string, columns: readonly string[]): string {
  const merged = MERGED_BY_KEY[table];
  if (merged && merged.key.every((column) => columns.includes(column))) return mergedSelect(table, columns, merged);
  const hasKey = columns.includes('source') && columns.includes('position');
  if (!hasKey) return `SELECT * EXCLUDE (fleet_order) FROM "${table}__all"`;
  return `SELECT * EXCLUDE (fleet_order) FROM "${table}__all"
    QUALIFY position IS NULL OR fleet_order = min(fleet_order) OVER (PARTITION BY source, position)`;
}

function mergedSelect(table: string, columns: readonly string[], merged: (typeof MERGED_BY_KEY)[string]): string {
  const q = (column: string) => `"${column}"`;
  const pick = (column: string): string => {
    if (merged.key.includes(column)) return q(column);
    if (merged.latest.includes(column)) return `max(${q(column)}) AS ${q(column)}`;
    return `arg_min(${q(column)}, fleet_order) FILTER (WHERE ${q(column)} IS NOT NULL) AS ${q(column)}`;
  };
  return `SELECT ${[...columns, 'fleet_member'].map(pick).join(', ')} FROM "${table}__all" GROUP BY ${merged.key.map(q).join(', ')}`;
}

/** How a member's store is read; `run`'s dashboards read their own store on their own session. */
export type OpenMemberTarget = (member: FleetMember) => Promise<QueryTarget>;

/**
 * A store as `query --db` reads it, or a peer through its query API with the fleet's token, asked for at each
 * open: a token file rotated meanwhile is followed.
 */
export function openFleetMember(member: FleetMember, token: () => string | undefined = () => fleetTokenFromEnv()): Promise<QueryTarget> {
  if (isPeerUrl(member.db)) return Promise.resolve(apiTarget(peerEndpoint(member.db, token())));
  return openQueryTarget(member.db);
}

export async function runFleetQuery(
  members: readonly FleetMember[],
  sql: string,
  params: QueryParams = {},
  openTarget: OpenMemberTarget = (member) => openFleetMember(member),
): Promise<Rows> {
  if (members.length < 2) throw new Error('--fleet needs the stores of at least two instances: --fleet a.duckdb --fleet b.duckdb');
  const targets: QueryTarget[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-'));
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: process.env.AUDITDUCK_MEMORY_LIMIT ?? '512MB', ...threadsSetting() });
  const local = await instance.connect();
  try {
    for (const member of members) targets.push(await openTarget(member));
    const schema = await tableColumns(targets[0]!);
    const wanted = tablesNamedIn(sql, [...schema.keys()]);
    for (const table of wanted) await gather(local, dir, table, schema.get(table)!, members, targets);
    await confineDatabase(local);
    const session = new ReadOnlySession(local, queryLimitsFromEnv());
    try {
      return await session.run(sql, params);
    } finally {
      await session.close();
    }
  } finally {
    await Promise.allSettled(targets.map((target) => target.close()));
    local.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

async function tableColumns(target: QueryTarget): Promise<Map<string, Column[]>> {
  const { rows } = await target.run(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, Column[]>();
  for (const row of rows) {
    const table = String(row.table_name);
    if (!tables.has(table)) tables.set(table, []);
    tables.get(table)!.push({ name: String(row.column_name), type: String(row.data_type) });
  }
  return tables;
}

/** Fetches one table from every member into `<table>__all`, then the deduplicated `<table>`. */
async function gather(local: DuckDBConnection, dir: string, table: string, columns: Column[], members: readonly FleetMember[], targets: QueryTarget[]): Promise<void> {
  const file = join(dir, `${table}.ndjson`);
  const lines: string[] = [];
  for (const [order, target] of targets.entries()) {
    const { rows } = await target.run(`SELECT * FROM "${table}"`);
    for (const row of rows) lines.push(JSON.stringify({ ...row, fleet_member: members[order]!.name, fleet_order: order }));
  }
  const all = [...columns, { name: 'fleet_member', type: 'VARCHAR' }, { name: 'fleet_order', type: 'INTEGER' }];
  const quoted = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  await local.run(`CREATE TABLE "${table}__all" (${all.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
  if (lines.length > 0) {
    // The rows come as `--format json` prints them; read_json casts them back to the member's column types.
    await writeFile(file, lines.join('\n'));
    const types = all.map((c) => `${quoted(c.name)}: ${quoted(c.type)}`).join(', ');
    await local.run(`INSERT INTO "${table}__all" SELECT * FROM read_json(${quoted(file)}, columns = {${types}}, format = 'newline_delimited')`);
  }
  await local.run(`CREATE TABLE "${table}" AS ${dedupSelect(table, columns.map((c) => c.name))}`);
  await local.run(`DROP TABLE "${table}__all"`);
}

/** Read-only SQL with named parameters over one store or the fleet. */
export type FleetRead = (sql: string, params: QueryParams) => Promise<Rows>;

/**
 * The fleet seen from one of its instances (`run` with `fleetPeers`): its own store first, read by `own`
 * (the process holds it), then each peer's store as `query --fleet` reads it. Own rows win a duplicate.
 */
export function fleetWithOwnStore(ownDb: string, peers: readonly string[], own: FleetRead, token: () => string | undefined): { members: string[]; read: FleetRead } {
  const members = fleetMembers([ownDb, ...peers]);
  const ownTarget: QueryTarget = {
    via: 'local',
    run: (sql, params = {}) => own(sql, params),
    copyTo: () => Promise.reject(new Error('the fleet reads rows; it writes no files')),
    close: async () => undefined,
  };
  const openTarget: OpenMemberTarget = (member) => (member === members[0] ? Promise.resolve(ownTarget) : openFleetMember(member, token));
  return { members: members.map((member) => member.name), read: (sql, params) => runFleetQuery(members, sql, params, openTarget) };
}

/** `serve --fleet`: every store as `query --fleet` reads it; the first is the one alert pages read. */
export function fleetOfStores(dbs: readonly string[]): { members: string[]; read: FleetRead; readFirst: FleetRead } {
  const members = fleetMembers(dbs);
  if (members.length < 2) throw new Error('--fleet needs the stores of at least two instances: --fleet a.duckdb --fleet b.duckdb');
  // A peer's URL or a missing token is an error at start, not in every panel.
  for (const member of members) if (isPeerUrl(member.db)) peerEndpoint(member.db, fleetTokenFromEnv());
  return {
    members: members.map((member) => member.name),
    read: (sql, params) => runFleetQuery(members, sql, params),
    readFirst: async (sql, params) => {
      const target = await openFleetMember(members[0]!);
      try {
        return await target.run(sql, params);
      } finally {
        await target.close();
      }
    },
  };
}
