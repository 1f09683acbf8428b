/**
 * Cuts the next segment: the rows appended to each events table since the last segment, and each state
 * table that changed, written by DuckDB as zstd Parquet into the staging folder, and recorded in
 * `lake_segments` in the same transaction. Runs on the store's writer between two commits (the caller's
 * `exclusive`), so no batch commits while the ranges are read.
 *
 * Why this is exactly once: a segment covers rowids (from, to] of each events table, and the next one starts
 * where it ends. The row that records it commits with nothing else; files staged by a transaction that did
 * not commit (a kill) are removed at the next start (`removeUnrecordedStaging`) and their rows, still
 * unrecorded, go into the next segment. The name comes from the positions and ranges it covers, so staging
 * the same rows again writes the same paths.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sha256Hex } from './lake-storage.js';
import { LAKE_TABLE_NAMES, LAKE_TABLES, lakeFolder, tableOfPath, type LakeTableName } from './lake-tables.js';

export interface StagedFile {
  path: string;
  table: LakeTableName;
  rows: number;
  minTime: string | null;
  maxTime: string | null;
}

export interface SegmentRanges {
  /** Events tables: the rowids covered, (from, to]. */
  events: Partial<Record<LakeTableName, [number, number]>>;
  /** State tables: a fingerprint of their content when cut, to tell whether they changed since. */
  state: Partial<Record<LakeTableName, string>>;
  /** Every lake table's columns as the store has them: written into the manifest, so readers know a table before its first row. */
  columns: Partial<Record<LakeTableName, [string, string][]>>;
}

export interface StagedSegment {
  seq: number;
  segment: string;
  positions: Record<string, string>;
  ranges: SegmentRanges;
  files: StagedFile[];
  createdAt: string;
}

/** Stages the next segment, or returns null when nothing was committed since the last one. */
export async function stageSegment(c: DuckDBConnection, stagingDir: string, now = new Date()): Promise<StagedSegment | null> {
  const last = await lastSegment(c);
  const ranges: SegmentRanges = { events: {}, state: {}, columns: {} };
  let changed = false;
  const tables = await existingTables(c);
  for (const name of LAKE_TABLE_NAMES) {
    if (!tables.has(name)) continue;
    const spec = LAKE_TABLES[name];
    ranges.columns[name] = await columnsOf(c, name);
    const before = last?.ranges.columns?.[name];
    if (before && JSON.stringify(before) !== JSON.stringify(ranges.columns[name])) {
      // Files already in the lake are never rewritten: a new shape needs a new folder.
      throw new Error(`the store's columns of ${name} changed since the last lake segment: give it a new lake schema version in src/lake/lake-tables.ts (version ${spec.version + 1}, folder ${name}_v${spec.version + 1})`);
    }
    if (spec.kind === 'events') {
      const from = last?.ranges.events[name]?.[1] ?? -1;
      const to = await scalar(c, `SELECT coalesce(max(rowid), -1) FROM ${name}`);
      // Rows are only appended (updates of events rows change no list column, so keep their rowid) and only
      // hot retention deletes, moving the watermark itself: rowids going back means something else compacted.
      if (Number(to) < from) throw new Error(`${name}'s rowids went back (${String(to)} < ${from}): rows were deleted outside hot retention, so the export stops rather than miss rows (docs/lake.md)`);
      ranges.events[name] = [from, Number(to)];
      if (Number(to) > from) changed = true;
    } else {
      const fingerprint = String(await scalar(c, `SELECT count(*)::VARCHAR || ':' || coalesce(bit_xor(hash(t)), 0)::VARCHAR FROM ${name} t`));
      ranges.state[name] = fingerprint;
      if (fingerprint !== last?.ranges.state[name]) changed = true;
    }
  }
  if (!changed) return null;

  const positions: Record<string, string> = {};
  for (const [key, position] of (await c.runAndReadAll('SELECT source_key, position FROM source_positions ORDER BY source_key')).getRows()) positions[String(key)] = String(position);
  const seq = (last?.seq ?? 0) + 1;
  const segment = `${String(seq).padStart(8, '0')}-${sha256Hex(JSON.stringify({ positions, ranges })).slice(0, 12)}`;
  const dir = join(stagingDir, segment);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  await c.run('BEGIN TRANSACTION');
  try {
    for (const [name, range] of Object.entries(ranges.events) as [LakeTableName, [number, number]][]) {
      if (range[1] > range[0]) await copyEvents(c, name, range, dir, segment);
    }
    for (const name of Object.keys(ranges.state) as LakeTableName[]) {
      if (ranges.state[name] !== last?.ranges.state[name]) await copyState(c, name, dir, segment);
    }
    const files = await describeStaged(c, dir);
    await checkCounts(c, ranges, files);
    const staged: StagedSegment = { seq, segment, positions, ranges, files, createdAt: now.toISOString() };
    const insert = await c.prepare(`INSERT INTO lake_segments VALUES ($1, $2, 'staged', $3, $4, $5, $6, NULL)`);
    insert.bindInteger(1, seq);
    insert.bindVarchar(2, segment);
    insert.bindVarchar(3, JSON.stringify(positions));
    insert.bindVarchar(4, JSON.stringify(ranges));
    insert.bindVarchar(5, JSON.stringify(files));
    insert.bindVarchar(6, staged.createdAt);
    await insert.run();
    await c.run('COMMIT');
    return staged;
  } catch (error) {
    await c.run('ROLLBACK').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`staging lake segment ${segment} failed, nothing of it was recorded (it is cut again next time): ${(error as Error).message}`, { cause: error });
  }
}

/** Segments staged and not yet published, oldest first. */
export async function stagedSegments(c: DuckDBConnection): Promise<StagedSegment[]> {
  const rows = (await c.runAndReadAll(`SELECT seq, segment, positions::VARCHAR, ranges::VARCHAR, files::VARCHAR, created_at FROM lake_segments WHERE state = 'staged' ORDER BY seq`)).getRows();
  return rows.map(([seq, segment, positions, ranges, files, createdAt]) => ({
    seq: Number(seq),
    segment: String(segment),
    positions: JSON.parse(String(positions)) as Record<string, string>,
    ranges: JSON.parse(String(ranges)) as SegmentRanges,
    files: JSON.parse(String(files)) as StagedFile[],
    createdAt: new Date(String(createdAt)).toISOString(),
  }));
}

/** The hash of the last published manifest entry: the next one chains to it. */
export async function lastPublishedHash(c: DuckDBConnection, before: number): Promise<string | null> {
  const rows = (await c.runAndReadAll(`SELECT entry_hash FROM lake_segments WHERE state = 'published' AND seq = ${before - 1}`)).getRows();
  return rows.length === 0 ? null : String(rows[0]![0]);
}

export async function markPublished(c: DuckDBConnection, seq: number, hash: string): Promise<void> {
  await c.run(`UPDATE lake_segments SET state = 'published', entry_hash = '${hash.replace(/[^0-9a-f]/g, '')}' WHERE seq = ${seq}`);
}

/** Staging folders no recorded segment owns: written by a stage whose transaction never committed (a kill). */
export async function removeUnrecordedStaging(c: DuckDBConnection, stagingDir: string): Promise<string[]> {
  const staged = new Set((await stagedSegments(c)).map((s) => s.segment));
  const entries = await readdir(stagingDir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const e of entries) {
    if (staged.has(e.name)) continue;
    await rm(join(stagingDir, e.name), { recursive: true, force: true });
    removed.push(e.name);
  }
  return removed;
}

async function lastSegment(c: DuckDBConnection): Promise<{ seq: number; ranges: SegmentRanges } | null> {
  const rows = (await c.runAndReadAll('SELECT seq, ranges::VARCHAR FROM lake_segments ORDER BY seq DESC LIMIT 1')).getRows();
  return rows.length === 0 ? null : { seq: Number(rows[0]![0]), ranges: JSON.parse(String(rows[0]![1])) as SegmentRanges };
}

async function columnsOf(c: DuckDBConnection, name: LakeTableName): Promise<[string, string][]> {
  const rows = (await c.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = '${name}' ORDER BY column_index`)).getRows();
  return rows.map(([column, type]) => [String(column), String(type)]);
}

async function existingTables(c: DuckDBConnection): Promise<Set<string>> {
  const rows = (await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary`)).getRows();
  return new Set(rows.map(([name]) => String(name)));
}

async function copyEvents(c: DuckDBConnection, name: LakeTableName, [from, to]: [number, number], dir: string, segment: string): Promise<void> {
  const spec = LAKE_TABLES[name];
  if (spec.kind !== 'events') throw new Error(`${name} is not an events table`);
  // The store's connections run in UTC (open-database.ts, confine-database.ts): the cast is the UTC day, and
  // costs a third of strftime(... AT TIME ZONE 'UTC') on the whole COPY.
  const date = `${spec.time}::DATE::VARCHAR AS date`;
  const partition = spec.byServer ? 'server, date' : 'date';
  await c.run(
    `COPY (SELECT *, ${date} FROM ${name} WHERE rowid > ${from} AND rowid <= ${to} ORDER BY ${spec.time})
     TO ${literal(join(dir, lakeFolder(name)))}
     (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${partition}), FILENAME_PATTERN ${literal(`part-${segment}-{i}`)}, OVERWRITE_OR_IGNORE true)`,
  );
}

async function copyState(c: DuckDBConnection, name: LakeTableName, dir: string, segment: string): Promise<void> {
  const folder = join(dir, lakeFolder(name), `snapshot=${segment}`);
  await mkdir(folder, { recursive: true });
  await c.run(`COPY (SELECT * FROM ${name}) TO ${literal(join(folder, `part-${segment}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
}

async function describeStaged(c: DuckDBConnection, dir: string): Promise<StagedFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: StagedFile[] = [];
  for (const e of entries.filter((x) => x.isFile() && x.name.endsWith('.parquet'))) {
    const full = join(e.parentPath, e.name);
    const path = relative(dir, full).split(sep).join('/');
    const table = tableOfPath(path);
    if (!table) throw new Error(`staged file ${path} belongs to no lake table`);
    const spec = LAKE_TABLES[table];
    const time = spec.kind === 'events' ? spec.time : null;
    const [rows, min, max] = (await c.runAndReadAll(
      `SELECT count(*), ${time ? `min(${time})::VARCHAR, max(${time})::VARCHAR` : 'NULL, NULL'} FROM read_parquet(${literal(full)})`,
    )).getRows()[0]!;
    files.push({ path, table, rows: Number(rows), minTime: min === null ? null : String(min), maxTime: max === null ? null : String(max) });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The files hold every row of the ranges, no more: checked before the segment is recorded. */
async function checkCounts(c: DuckDBConnection, ranges: SegmentRanges, files: StagedFile[]): Promise<void> {
  for (const [name, [from, to]] of Object.entries(ranges.events) as [LakeTableName, [number, number]][]) {
    const expected = Number(await scalar(c, `SELECT count(*) FROM ${name} WHERE rowid > ${from} AND rowid <= ${to}`));
    const written = files.filter((f) => f.table === name).reduce((n, f) => n + f.rows, 0);
    if (expected !== written) throw new Error(`${name}: ${written} rows written for ${expected} in rowids (${from}, ${to}]`);
  }
}

async function scalar(c: DuckDBConnection, sql: string): Promise<unknown> {
  return (await c.runAndReadAll(sql)).getRows()[0]![0];
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
