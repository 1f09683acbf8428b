/**
 * Cuts the next segment: the rows appended to each events table since the last segment, and each state
 * table that changed, written by DuckDB as zstd Parquet into the staging folder, and recorded in
 * `lake_segments` in the same transaction. Its snapshot is taken on the store's writer between two commits (the
 * caller's `exclusive`), so no batch is half-appended in it; every read after that sees the store as it was then.
 *
 * Why this is exactly once: a segment covers rows (from, to] of each events table, counted in rowid order, and
 * the next one starts where it ends. Counted, not by rowid: DuckDB renumbers rowids when a store whose rows hot
 * retention deleted is reopened, which moves rows committed since below any rowid recorded before; rows are
 * only appended, and only hot retention deletes (the first rows, and it takes them off the counts), so the
 * rows already in the lake are always the first `to` of the table. The row that records it commits with nothing else; files staged by a transaction that did
 * not commit (a kill) are removed at the next start (`removeUnrecordedStaging`) and their rows, still
 * unrecorded, go into the next segment. The name comes from the positions and ranges it covers, so staging
 * the same rows again writes the same paths.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import pMap from 'p-map';
import { sha256Hex } from './lake-storage.js';
import { LAKE_TABLE_NAMES, LAKE_TABLES, lakeFolder, type ChangesTable, type EventTable, type LakeTableName, type RevisionsTable } from './lake-tables.js';

export interface StagedFile {
  path: string;
  table: LakeTableName;
  rows: number;
  minTime: string | null;
  maxTime: string | null;
}

export interface SegmentRanges {
  /**
   * Events tables: the rows covered, (from, to], counted in rowid order in the table as it stands (rowids
   * themselves, in segments staged before `unit` was recorded).
   */
  events: Partial<Record<LakeTableName, [number, number]>>;
  /** 'rows' where `events` counts rows; absent in older segments, whose `events` are rowids. */
  unit?: 'rows';
  /**
   * The rowid of each events table's last covered row when cut: where the next segment starts, as long as the
   * store was not reopened since rows were deleted (checked by count before it is used).
   */
  lastRowids?: Partial<Record<LakeTableName, number>>;
  /**
   * Changes tables: the highest change number the lake holds after this segment, which holds the rows numbered
   * above the last segment's (none before a table's first: every row).
   */
  changes?: Partial<Record<LakeTableName, number>>;
  /** Revisions tables: how many of their rows differed from what the lake held, which this segment holds. */
  revisions?: Partial<Record<LakeTableName, number>>;
  /** State tables: a fingerprint of their content when cut, to tell whether they changed since. */
  state: Partial<Record<LakeTableName, string>>;
  /** Each table's lake schema version when cut; absent in segments before any table had a second (all at 1). */
  schemaVersions?: Partial<Record<LakeTableName, number>>;
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

/**
 * Runs `take` while the store's writer is held between two batch commits. Given one, `stageSegment` works on
 * a connection of its own: the writer waits only while the staging transactions take their snapshot (a read
 * each), not while the cut is read or the files are written, so ingestion goes on meanwhile.
 */
export type HoldWriter = <T>(take: () => Promise<T>) => Promise<T>;

/** The cut: what the segment covers, read in the staging transaction's snapshot. */
interface Cut {
  seq: number;
  segment: string;
  positions: Record<string, string>;
  ranges: SegmentRanges;
  /** Each events table's rows of the segment as rowids (from, to], valid in the staging transaction. */
  rowids: Partial<Record<LakeTableName, [number, number]>>;
  /** The state tables' fingerprints in the segment before: those that differ are written whole. */
  lastState: SegmentRanges['state'];
  /** Each changes table's rows of the segment: change numbers (from, to]. */
  changed: Partial<Record<LakeTableName, [number, number]>>;
  /** The revisions tables with rows that differ from the lake's. */
  revised: LakeTableName[];
}

export interface StageOptions {
  now?: Date;
  /** Takes the snapshot between two commits, when `c` is not the writer's own connection. */
  hold?: HoldWriter;
  /**
   * More connections to the same database. Each begins its transaction while the writer is held, so it reads
   * `c`'s snapshot, and the segment's COPYs are spread over them and `c`: the files are written side by side
   * (each statement on its own calling thread), the same files as on `c` alone.
   */
  helpers?: readonly DuckDBConnection[];
}

/**
 * Stages the next segment, or returns null when nothing was committed since the last one. On the writer's own
 * connection (hot retention) `hold` is not needed; on another connection of the same database, `hold` takes
 * the snapshot between two commits and the rest runs beside the ingestion (MVCC: rows committed meanwhile
 * get higher rowids and go into the next segment).
 */
export async function stageSegment(c: DuckDBConnection, stagingDir: string, opts: StageOptions = {}): Promise<StagedSegment | null> {
  const { now = new Date(), hold = (take) => take(), helpers = [] } = opts;
  const inTransaction: DuckDBConnection[] = [];
  let cut: Cut | null;
  try {
    await hold(async () => {
      for (const connection of [c, ...helpers]) {
        inTransaction.push(connection);
        await beginInSnapshot(connection);
      }
    });
    cut = await cutSegment(c);
  } catch (error) {
    await rollBack(inTransaction);
    throw error;
  }
  if (cut === null) {
    await rollBack(inTransaction);
    return null;
  }
  const { seq, segment, positions, ranges, rowids } = cut;
  const dir = join(stagingDir, segment);
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const files = await writeFiles(inTransaction, cut, dir);
    files.sort((a, b) => a.path.localeCompare(b.path));
    await checkCounts(c, ranges, rowids, files);
    // After the files, which read the hashes as they were: the next segment compares with what this one holds.
    for (const name of cut.revised) await c.run(`INSERT OR REPLACE INTO lake_revisions SELECT '${name}', ${revisionKey(LAKE_TABLES[name] as RevisionsTable)}, hash(t) ${revisedRows(name, LAKE_TABLES[name] as RevisionsTable)}`);
    const staged: StagedSegment = { seq, segment, positions, ranges, files, createdAt: now.toISOString() };
    const insert = await c.prepare(`INSERT INTO lake_segments VALUES ($1, $2, 'staged', $3, $4, $5, $6, NULL)`);
    insert.bindInteger(1, seq);
    insert.bindVarchar(2, segment);
    insert.bindVarchar(3, JSON.stringify(positions));
    insert.bindVarchar(4, JSON.stringify(ranges));
    insert.bindVarchar(5, JSON.stringify(files));
    insert.bindVarchar(6, staged.createdAt);
    await insert.run();
    // The segment before is no longer the newest: once published, nothing reads its columns (stripColumns).
    if (seq > 1) await c.run(`UPDATE lake_segments SET ranges = ${stripColumns('ranges')} WHERE seq = ${seq - 1} AND state = 'published'`);
    // The helpers only read: their transactions end before the one that records the segment.
    await rollBack(inTransaction.slice(1));
    await c.run('COMMIT');
    return staged;
  } catch (error) {
    await rollBack(inTransaction);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`staging lake segment ${segment} failed, nothing of it was recorded (it is cut again next time): ${(error as Error).message}`, { cause: error });
  }
}

/** DuckDB takes a transaction's snapshot at its first read, not at BEGIN: the read pins it while the writer is held. */
async function beginInSnapshot(c: DuckDBConnection): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  await c.run('SELECT count(*) FROM lake_segments');
}

async function rollBack(connections: readonly DuckDBConnection[]): Promise<void> {
  await Promise.all(connections.map((c) => c.run('ROLLBACK').catch(() => undefined)));
}

/** Reads what the next segment covers, in the open transaction; null when nothing changed since the last one. */
async function cutSegment(c: DuckDBConnection): Promise<Cut | null> {
  const last = await lastSegment(c);
  if (last) await countRows(c, last.ranges);
  const ranges: SegmentRanges = { events: {}, unit: 'rows', lastRowids: {}, changes: {}, revisions: {}, state: {}, columns: {}, schemaVersions: {} };
  const rowids: Cut['rowids'] = {};
  const changedRows: Cut['changed'] = {};
  const revised: LakeTableName[] = [];
  let changed = false;
  const columns = await columnsOfTables(c);
  for (const name of LAKE_TABLE_NAMES) {
    const tableColumns = columns.get(name);
    if (!tableColumns) continue;
    const spec = LAKE_TABLES[name];
    ranges.columns[name] = tableColumns;
    ranges.schemaVersions![name] = spec.version;
    const before = last?.ranges.columns?.[name];
    const sameVersion = (last?.ranges.schemaVersions?.[name] ?? 1) === spec.version;
    if (before && sameVersion && JSON.stringify(before) !== JSON.stringify(ranges.columns[name])) {
      // Files already in the lake are never rewritten: a new shape needs a new folder.
      throw new Error(`the store's columns of ${name} changed since the last lake segment: give it a new lake schema version in src/lake/lake-tables.ts (version ${spec.version + 1}, folder ${name}_v${spec.version + 1})`);
    }
    if (spec.kind === 'events') {
      const from = last?.ranges.events[name]?.[1] ?? 0;
      const [total, lastRowid] = (await c.runAndReadAll(`SELECT count(*), coalesce(max(rowid), -1) FROM ${name}`)).getRows()[0]!.map(Number) as [number, number];
      // Rows are only appended and only hot retention deletes, taking them off the counts: fewer rows than the
      // lake holds means something else deleted.
      if (total < from) throw new Error(`${name} has ${total} rows, fewer than the ${from} already in the lake: rows were deleted outside hot retention, so the export stops rather than miss rows (docs/lake.md)`);
      ranges.events[name] = [from, total];
      ranges.lastRowids![name] = lastRowid;
      rowids[name] = [await rowidOfRow(c, name, from, last?.ranges.lastRowids?.[name]), lastRowid];
      if (total > from) changed = true;
    } else if (spec.kind === 'changes') {
      const from = last?.ranges.changes?.[name] ?? -1;
      const to = Number(await scalar(c, `SELECT coalesce(max(${spec.change}), -1) FROM ${name}`));
      // The numbers come from a sequence and no row is deleted: fewer means a store the lake was not exported from.
      if (to < from) throw new Error(`${name}' highest ${spec.change} is ${to}, below the ${from} already in the lake: this is not the store the lake was exported from, so the export stops rather than miss changes (docs/lake.md)`);
      ranges.changes![name] = to;
      if (to > from) {
        changedRows[name] = [from, to];
        changed = true;
      }
    } else if (spec.kind === 'revisions') {
      const rows = Number(await scalar(c, `SELECT count(*) ${revisedRows(name, spec)}`));
      if (rows > 0) {
        ranges.revisions![name] = rows;
        revised.push(name);
        changed = true;
      }
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
  return { seq, segment, positions, ranges, rowids, lastState: last?.ranges.state ?? {}, changed: changedRows, revised };
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

/**
 * Published: its manifest entry lists the files and every table's columns, and nothing reads its files from the
 * store again, nor its columns unless it is the newest segment (the next cut compares with those).
 */
export async function markPublished(c: DuckDBConnection, seq: number, hash: string): Promise<void> {
  await c.run(
    `UPDATE lake_segments SET state = 'published', entry_hash = '${hash.replace(/[^0-9a-f]/g, '')}', files = '[]',
       ranges = CASE WHEN seq < (SELECT max(seq) FROM lake_segments) THEN ${stripColumns('ranges')} ELSE ranges END
     WHERE seq = ${seq}`,
  );
}

/**
 * `lake_segments` keeps a row per segment for good: without its tables' columns and lake versions (some 8 KB) a
 * published segment's ranges are a few hundred bytes.
 */
function stripColumns(ranges: string): string {
  return `json_merge_patch(${ranges}, '{"columns": null, "schemaVersions": null}')`;
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

/**
 * The rowid of the table's `row`-th row in rowid order (-1 for none): `hint` when exactly `row` rows are at or
 * below it (always, unless the store was reopened after hot retention deleted rows), else looked up.
 */
export async function rowidOfRow(c: DuckDBConnection, name: LakeTableName, row: number, hint: number | undefined): Promise<number> {
  if (row === 0) return -1;
  if (hint !== undefined && Number(await scalar(c, `SELECT count(*) FROM ${name} WHERE rowid <= ${hint}`)) === row) return hint;
  // Rare (the first export after such a reopen): a sort of the rowids the lake already holds.
  return Number(await scalar(c, `SELECT rowid FROM ${name} ORDER BY rowid LIMIT 1 OFFSET ${row - 1}`));
}

/**
 * Turns the rowid ranges of a segment staged before ranges were counted into counts of rows, in place. Right
 * only while the rowids are those of the staging (as the export always assumed before): rowids gone back
 * stop the export rather than miss rows.
 */
export async function countRows(c: DuckDBConnection, ranges: SegmentRanges): Promise<void> {
  if (ranges.unit === 'rows') return;
  ranges.lastRowids = {};
  for (const [name, [from, to]] of Object.entries(ranges.events) as [LakeTableName, [number, number]][]) {
    const [below, atOrBelowTo, last] = (await c.runAndReadAll(
      `SELECT count(*) FILTER (WHERE rowid <= ${from}), count(*) FILTER (WHERE rowid <= ${to}), coalesce(max(rowid), -1) FROM ${name}`,
    )).getRows()[0]!.map(Number) as [number, number, number];
    if (last < to) throw new Error(`${name}'s rowids went back (${last} < ${to}) since a lake segment of an earlier version: the export stops rather than miss rows (docs/lake.md)`);
    ranges.events[name] = [below, atOrBelowTo];
    ranges.lastRowids[name] = to;
  }
  ranges.unit = 'rows';
}

async function lastSegment(c: DuckDBConnection): Promise<{ seq: number; ranges: SegmentRanges } | null> {
  const rows = (await c.runAndReadAll('SELECT seq, ranges::VARCHAR FROM lake_segments ORDER BY seq DESC LIMIT 1')).getRows();
  return rows.length === 0 ? null : { seq: Number(rows[0]![0]), ranges: JSON.parse(String(rows[0]![1])) as SegmentRanges };
}

/** Every table's columns (name, DuckDB type) in one query: asked at each export, even when nothing changed. */
async function columnsOfTables(c: DuckDBConnection): Promise<Map<string, [string, string][]>> {
  const rows = (await c.runAndReadAll(
    `SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, column_index`,
  )).getRows();
  const tables = new Map<string, [string, string][]>();
  for (const [table, column, type] of rows) {
    const name = String(table);
    if (!tables.has(name)) tables.set(name, []);
    tables.get(name)!.push([String(column), String(type)]);
  }
  return tables;
}

/** One (server, date) partition of an events table's range, as the files are cut. */
interface EventsPartition {
  server: string | null;
  date: string;
  rows: number;
  minTime: string;
  maxTime: string;
  /** Whether the rows are in time order already in rowid (scan) order: the file is then written without a sort. */
  inOrder: boolean;
}

/** One COPY of the segment: the rows it writes (to hand out the largest first), and the writing, on any connection. */
interface Copy {
  rows: number;
  write: (c: DuckDBConnection) => Promise<StagedFile[]>;
}

/**
 * Writes the segment's files: each events table's partitions are listed, then every file's COPY is run, the
 * largest first, on whichever connection is free. Each connection's statement runs on its own calling thread, so
 * with DuckDB on one thread the files are still written side by side.
 */
async function writeFiles(connections: readonly DuckDBConnection[], cut: Cut, dir: string): Promise<StagedFile[]> {
  const { ranges, rowids, lastState, changed, revised, segment } = cut;
  const events = (Object.entries(ranges.events) as [LakeTableName, [number, number]][]).filter(([, [from, to]]) => to > from).map(([name]) => name);
  const scanLimit = await oneScanLimit(connections[0]!);
  const listed = await onConnections(connections, events.map((name) => (c: DuckDBConnection) => eventsPartitions(c, name, LAKE_TABLES[name] as EventTable, rowidRange(rowids[name]!))));
  const copies: Copy[] = [];
  for (const [i, name] of events.entries()) {
    // Made here, once: DuckDB's partitioned COPYs on other connections would race to create it.
    await mkdir(join(dir, lakeFolder(name)), { recursive: true });
    copies.push(...eventsCopies(name, rowidRange(rowids[name]!), listed[i]!, scanLimit, dir, segment));
  }
  for (const [name, [from, to]] of Object.entries(changed) as [LakeTableName, [number, number]][]) {
    copies.push({ rows: to - from, write: async (c) => [await copyChanges(c, name, from, to, dir, segment)] });
  }
  for (const name of revised) copies.push({ rows: ranges.revisions![name]!, write: async (c) => [await copyRevisions(c, name, ranges.revisions![name]!, dir, segment)] });
  for (const name of Object.keys(ranges.state) as LakeTableName[]) {
    const fingerprint = ranges.state[name]!;
    if (fingerprint !== lastState[name]) copies.push({ rows: Number(fingerprint.split(':')[0]), write: async (c) => [await copyState(c, name, dir, segment)] });
  }
  copies.sort((a, b) => b.rows - a.rows);
  return (await onConnections(connections, copies.map((copy) => copy.write))).flat();
}

/**
 * Runs the jobs on the connections, one at a time on each, and gives their results in the jobs' order. A failure
 * is thrown once no job is still running (the caller then rolls back and removes the folder they write into),
 * and no job starts after it.
 */
async function onConnections<T>(connections: readonly DuckDBConnection[], jobs: readonly ((c: DuckDBConnection) => Promise<T>)[]): Promise<T[]> {
  const idle = [...connections];
  let failed = false;
  const results = await pMap(
    jobs,
    async (job) => {
      if (failed) return null;
      const c = idle.pop()!;
      try {
        return await job(c);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        idle.push(c);
      }
    },
    { concurrency: connections.length, stopOnError: false },
  ).catch((error: unknown) => {
    throw error instanceof AggregateError ? error.errors[0] : error;
  });
  return results as T[];
}

function rowidRange([from, to]: [number, number]): string {
  return `rowid > ${from} AND rowid <= ${to}`;
}

/**
 * The COPYs of one events table's partitions: one file per (server, date), sorted by time. Rows are mostly
 * appended in time order, so a partition already in order is written as scanned, without the sort; and one COPY
 * per partition sorts only within it. Both cost a fraction of one `PARTITION_BY` COPY with a global sort
 * (bench/lake-export.bench.ts), and the files, paths and names are the same. On one DuckDB thread many small
 * partitions already in order are written in one scan (`oneScanPays`, `copyInOneScan`).
 */
function eventsCopies(name: LakeTableName, range: string, partitions: readonly EventsPartition[], scanLimit: number | null, dir: string, segment: string): Copy[] {
  const spec = LAKE_TABLES[name] as EventTable;
  const copies: Copy[] = [];
  const scanned = new Set<EventsPartition>();
  if (spec.byServer && scanLimit !== null) {
    const inOrder = partitions.filter((p) => p.inOrder && SAFE_PARTITION_VALUE.test(p.server!));
    for (const group of byServerUpTo(inOrder, scanLimit)) {
      if (!oneScanPays(group)) continue;
      for (const p of group) scanned.add(p);
      copies.push({ rows: sumOfRows(group), write: async (c) => copyInOneScan(c, name, range, group, dir, segment) });
    }
  }
  const escaped = new Map<string, EventsPartition[]>();
  for (const p of partitions) {
    if (scanned.has(p)) continue;
    if (spec.byServer && !SAFE_PARTITION_VALUE.test(p.server!)) {
      // DuckDB names such a server's folder, when its first file is written: its days go one after the other.
      const days = escaped.get(p.server!);
      if (days) days.push(p);
      else escaped.set(p.server!, [p]);
      continue;
    }
    copies.push({ rows: p.rows, write: async (c) => [await copyPartition(c, name, range, p, dir, segment)] });
  }
  for (const days of escaped.values()) {
    copies.push({
      rows: sumOfRows(days),
      write: async (c) => {
        const files: StagedFile[] = [];
        for (const p of days) files.push(await copyEscapedPartition(c, name, range, p, dir, segment));
        return files;
      },
    });
  }
  return copies;
}

/** One partition's file, with a COPY of its own. */
async function copyPartition(c: DuckDBConnection, name: LakeTableName, range: string, p: EventsPartition, dir: string, segment: string): Promise<StagedFile> {
  const spec = LAKE_TABLES[name] as EventTable;
  const folder = `${lakeFolder(name)}/${spec.byServer ? `server=${p.server}/` : ''}date=${p.date}`;
  const path = `${folder}/part-${segment}-0.parquet`;
  // The partition columns are in the path, not in the file (as Spark, Synapse and Fabric expect).
  const select = `SELECT * ${spec.byServer ? 'EXCLUDE (server)' : ''} FROM ${name} WHERE ${partitionFilter(spec, range, p)} ${p.inOrder ? '' : `ORDER BY ${spec.time}, rowid`}`;
  await mkdir(join(dir, ...folder.split('/')), { recursive: true });
  // A COPY's own result is the rows it wrote: the statistics of RETURN_STATS cost a tenth more, for nothing here.
  const written = (await c.runAndReadAll(`COPY (${select}) TO ${literal(join(dir, ...path.split('/')))} (${PARQUET_OPTIONS})`)).getRows()[0]![0];
  return checkedFile(name, path, Number(written), p);
}

/** A partition of a server whose name DuckDB escapes in the path its own way: DuckDB names the folder, as it always did. */
async function copyEscapedPartition(c: DuckDBConnection, name: LakeTableName, range: string, p: EventsPartition, dir: string, segment: string): Promise<StagedFile> {
  const spec = LAKE_TABLES[name] as EventTable;
  const stats = (await c.runAndReadAll(
    `COPY (SELECT *, ${utcDay(spec.time)}::VARCHAR AS date FROM ${name} WHERE ${partitionFilter(spec, range, p)} ${p.inOrder ? '' : `ORDER BY ${spec.time}, rowid`})
     TO ${literal(join(dir, lakeFolder(name)))}
     (${PARQUET_OPTIONS}, PARTITION_BY (server, date), FILENAME_PATTERN ${literal(`part-${segment}-{i}`)}, OVERWRITE_OR_IGNORE true, RETURN_STATS true)`,
  )).getRows();
  if (stats.length !== 1) throw new Error(`${name}: one partition was written as ${stats.length} files`);
  return checkedFile(name, relative(dir, String(stats[0]![0])).split(sep).join('/'), Number(stats[0]![1]), p);
}

/** The partition's rows: the UTC day as a time range, compared as integers, where a cast to DATE would ask ICU for every row. */
function partitionFilter(spec: EventTable, range: string, p: EventsPartition): string {
  return `${range} AND ${dayRange(spec.time, p.date)}${spec.byServer ? ` AND server = ${literal(p.server!)}` : ''}`;
}

function checkedFile(name: LakeTableName, path: string, written: number, p: EventsPartition): StagedFile {
  if (written !== p.rows) throw new Error(`${name}: ${written} rows written to ${path} for ${p.rows} in its partition`);
  return { path, table: name, rows: p.rows, minTime: p.minTime, maxTime: p.maxTime };
}

function sumOfRows(partitions: readonly EventsPartition[]): number {
  let rows = 0;
  for (const p of partitions) rows += p.rows;
  return rows;
}

/**
 * Whether one partitioned scan costs less than a COPY a partition. DuckDB's partitioned write buffers every row
 * before it writes: about twice a plain COPY's CPU a row. A COPY costs about 2.7 ms however few its rows. So one
 * scan pays for many small partitions only: from 8 partitions, of at most 2,000 rows each on average
 * (docs/benchmarks.md, "The lake export").
 */
function oneScanPays(partitions: readonly EventsPartition[]): boolean {
  return partitions.length >= ONE_SCAN_FROM && sumOfRows(partitions) <= ONE_SCAN_ROWS_A_PARTITION * partitions.length;
}

const ONE_SCAN_FROM = 8;
const ONE_SCAN_ROWS_A_PARTITION = 2_000;

/**
 * The partitions of servers whose rows are in time order, written by one `PARTITION_BY` COPY: one scan of the
 * range instead of one a partition, for partitions too small to pay a COPY's own cost. Only on one DuckDB thread: with more,
 * the partitioned write interleaves the threads' rows, out of time order within a file.
 */
async function copyInOneScan(c: DuckDBConnection, name: LakeTableName, range: string, partitions: readonly EventsPartition[], dir: string, segment: string): Promise<StagedFile[]> {
  const spec = LAKE_TABLES[name] as EventTable;
  const servers = [...new Set(partitions.map((p) => p.server!))];
  const stats = (await c.runAndReadAll(
    `COPY (SELECT *, ${utcDay(spec.time)}::VARCHAR AS date FROM ${name} WHERE ${range} AND server IN (${servers.map(literal).join(', ')}))
     TO ${literal(join(dir, lakeFolder(name)))}
     (${PARQUET_OPTIONS}, PARTITION_BY (server, date), FILENAME_PATTERN ${literal(`part-${segment}-{i}`)}, OVERWRITE_OR_IGNORE true, RETURN_STATS true)`,
  )).getRows();
  const written = new Map(stats.map(([file, rows]) => [relative(dir, String(file)).split(sep).join('/'), Number(rows)]));
  if (written.size !== partitions.length) throw new Error(`${name}: ${partitions.length} partitions were written as ${written.size} files`);
  return partitions.map((p) => {
    const path = `${lakeFolder(name)}/server=${p.server}/date=${p.date}/part-${segment}-0.parquet`;
    return checkedFile(name, path, written.get(path) ?? 0, p);
  });
}

/**
 * Partitions in groups of whole servers (a server's rows go to one COPY), at most `max` partitions a group: past
 * `partitioned_write_max_open_files`, DuckDB would close a file and start another for the same partition. A
 * server with more days than that in one segment (a backfill) is left out, to a COPY a partition.
 */
function byServerUpTo(partitions: readonly EventsPartition[], max: number): EventsPartition[][] {
  const servers = new Map<string, EventsPartition[]>();
  for (const p of partitions) {
    const days = servers.get(p.server!);
    if (days) days.push(p);
    else servers.set(p.server!, [p]);
  }
  const groups: EventsPartition[][] = [[]];
  for (const days of servers.values()) {
    if (days.length > max) continue;
    if (groups.at(-1)!.length + days.length > max) groups.push([]);
    groups.at(-1)!.push(...days);
  }
  return groups;
}

/**
 * The most partitions one scan may write (`partitioned_write_max_open_files`) when the instance runs on one thread
 * (store/on-one-thread.ts gave it one, or AUDITDUCK_THREADS did); null on more, where no scan is shared.
 */
async function oneScanLimit(c: DuckDBConnection): Promise<number | null> {
  const [threads, maxOpenFiles] = (await c.runAndReadAll(`SELECT current_setting('threads'), current_setting('partitioned_write_max_open_files')`)).getRows()[0]!;
  return Number(threads) === 1 ? Number(maxOpenFiles) : null;
}

/**
 * How every lake file is written. A column whose values run past DICTIONARY_SIZE_LIMIT distinct ones per row
 * group is written plain (zstd then does the work) instead of first filling DuckDB's default dictionary of
 * thousands of entries and dropping it: per file and string column that costs a large hash table to clear
 * and fill, which made the Parquet writer the export's largest cost (bench/lake-export.bench.ts). Columns of
 * few values (users, commands, classes, databases) keep their dictionaries; the files come out no larger.
 * zstd's level 1 instead of DuckDB's 3: audit_events' files in an eighth less CPU, and no larger.
 */
const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 1000';

/** Rows of the UTC day `date` (YYYY-MM-DD) by `column`, a TIMESTAMPTZ. */
function dayRange(column: string, date: string): string {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return `${column} >= TIMESTAMPTZ ${literal(`${date} 00:00:00+00`)} AND ${column} < TIMESTAMPTZ ${literal(`${next} 00:00:00+00`)}`;
}

/** Partition values written into paths as they are; DuckDB would escape any other character. */
const SAFE_PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The range's partitions with their counts and time span, and whether each is in time order, in one scan.
 * Order is checked per server (cheaper than per server and day, and a server's rows in order are in order
 * on each of its days): a row earlier than the one before it puts all of its server's partitions to a sort.
 */
async function eventsPartitions(c: DuckDBConnection, name: LakeTableName, spec: EventTable, range: string): Promise<EventsPartition[]> {
  const server = spec.byServer ? 'server' : 'NULL::VARCHAR';
  const rows = (await c.runAndReadAll(
    `SELECT server, day::VARCHAR, count(*), min(t)::VARCHAR, max(t)::VARCHAR, count(*) FILTER (WHERE t < previous)
     FROM (SELECT ${server} AS server, ${utcDay(spec.time)} AS day, ${spec.time} AS t,
                  lag(${spec.time}) OVER (PARTITION BY ${server} ORDER BY rowid) AS previous
           FROM ${name} WHERE ${range})
     GROUP BY ALL ORDER BY ALL`,
  )).getRows();
  const outOfOrder = new Set(rows.filter((r) => Number(r[5]) > 0).map(([server]) => server));
  return rows.map(([server, date, count, min, max]) => ({
    server: server === null ? null : String(server),
    date: String(date),
    rows: Number(count),
    minTime: String(min),
    maxTime: String(max),
    inOrder: !outOfOrder.has(server),
  }));
}

/** The UTC day of a TIMESTAMPTZ from its epoch, whatever the session's time zone, without ICU's calendar per row. */
function utcDay(column: string): string {
  return `(DATE '1970-01-01' + floor(epoch_us(${column}) / 86400000000)::INTEGER)`;
}

/** A changes table's rows numbered (from, to], in the order they changed: one file, whatever their servers. */
async function copyChanges(c: DuckDBConnection, name: LakeTableName, from: number, to: number, dir: string, segment: string): Promise<StagedFile> {
  const { change } = LAKE_TABLES[name] as ChangesTable;
  return copyOneFile(c, name, `SELECT * FROM ${name} WHERE ${change} > ${from} AND ${change} <= ${to} ORDER BY ${change}`, dir, segment);
}

/** A revisions table's rows that differ from the hashes `lake_revisions` keeps of what the lake holds (none: every row). */
function revisedRows(name: LakeTableName, spec: RevisionsTable): string {
  return `FROM ${name} t LEFT JOIN lake_revisions r ON r.table_name = '${name}' AND r.row_key = ${revisionKey(spec)} WHERE r.row_hash IS DISTINCT FROM hash(t)`;
}

function revisionKey(spec: RevisionsTable): string {
  return `concat_ws(chr(0), ${spec.key.map((column) => `t.${column}::VARCHAR`).join(', ')})`;
}

/** A revisions table's rows that differ from the lake's, by key: one file. */
async function copyRevisions(c: DuckDBConnection, name: LakeTableName, rows: number, dir: string, segment: string): Promise<StagedFile> {
  const spec = LAKE_TABLES[name] as RevisionsTable;
  const order = spec.key.map((column) => `t.${column}`).join(', ');
  const file = await copyOneFile(c, name, `SELECT t.* ${revisedRows(name, spec)} ORDER BY ${order}`, dir, segment);
  if (file.rows !== rows) throw new Error(`${name}: ${file.rows} rows written to ${file.path} for the ${rows} that differed from the lake's`);
  return file;
}

/** A table's one file of the segment, `<folder>/part-<segment>.parquet`, of the rows `select` gives. */
async function copyOneFile(c: DuckDBConnection, name: LakeTableName, select: string, dir: string, segment: string): Promise<StagedFile> {
  const path = `${lakeFolder(name)}/part-${segment}.parquet`;
  await mkdir(join(dir, lakeFolder(name)), { recursive: true });
  const written = (await c.runAndReadAll(`COPY (${select}) TO ${literal(join(dir, ...path.split('/')))} (${PARQUET_OPTIONS})`)).getRows()[0]![0];
  return { path, table: name, rows: Number(written), minTime: null, maxTime: null };
}

async function copyState(c: DuckDBConnection, name: LakeTableName, dir: string, segment: string): Promise<StagedFile> {
  const path = `${lakeFolder(name)}/snapshot=${segment}/part-${segment}.parquet`;
  await mkdir(join(dir, lakeFolder(name), `snapshot=${segment}`), { recursive: true });
  const written = (await c.runAndReadAll(`COPY (SELECT * FROM ${name}) TO ${literal(join(dir, ...path.split('/')))} (${PARQUET_OPTIONS})`)).getRows()[0]![0];
  return { path, table: name, rows: Number(written), minTime: null, maxTime: null };
}

/** The files hold every row of the ranges, no more: checked before the segment is recorded. */
async function checkCounts(c: DuckDBConnection, ranges: SegmentRanges, rowids: Cut['rowids'], files: StagedFile[]): Promise<void> {
  for (const [name, [from, to]] of Object.entries(ranges.events) as [LakeTableName, [number, number]][]) {
    const [fromRowid, toRowid] = rowids[name]!;
    const inRowids = Number(await scalar(c, `SELECT count(*) FROM ${name} WHERE ${rowidRange(rowids[name]!)}`));
    const written = files.filter((f) => f.table === name).reduce((n, f) => n + f.rows, 0);
    if (inRowids !== to - from || written !== inRowids) throw new Error(`${name}: ${written} rows written for ${inRowids} in rowids (${fromRowid}, ${toRowid}] and rows (${from}, ${to}]`);
  }
}

async function scalar(c: DuckDBConnection, sql: string): Promise<unknown> {
  return (await c.runAndReadAll(sql)).getRows()[0]![0];
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
