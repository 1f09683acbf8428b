/**
 * What a reader of the lake needs of its manifest, folded from the entries: each table's columns and version as the
 * newest segment had them, its files by folder (a version's folder, or an older version's), and the latest whole
 * copy of a table an older auditduck wrote whole. A reader needs no file list: DuckDB reads a table's folder.
 *
 * A checkpoint (`_checkpoints/<seq>.json`, every CHECKPOINT_EVERY segments) holds the fold through its segment, so a
 * reader folds only the entries after it: opening a lake of a year costs what opening one of a day does, not the
 * reading of half a million entries. `auditduck lake verify` folds every entry and names a checkpoint that differs.
 */
import { sha256Hex } from './lake-storage.js';
import type { LakeTableName } from './lake-tables.js';
import type { ManifestEntry } from './manifest.js';

export const CHECKPOINT_FORMAT = 'auditduck-lake-checkpoint/1';
export const CHECKPOINT_FOLDER = '_checkpoints';
/** About 17 hours of `run`'s minute segments: a reader folds at most this many entries. */
export const CHECKPOINT_EVERY = 1000;

export interface FolderSummary {
  files: number;
  rows: number;
  /** The columns every segment with a file here had; null when they differed (a lake written before versions). */
  columns: [string, string][] | null;
}

export interface TableSummary {
  /** As the newest segment had them; null for a table no entry gave columns of. */
  version: number;
  columns: [string, string][] | null;
  /** By the folder a file is in (the path's first part). */
  folders: Record<string, FolderSummary>;
  /** The newest file of a table written whole (`<table>/snapshot=…/`); null when none was. */
  latestCopy: string | null;
}

export interface ManifestSummary {
  /** The last segment folded, and its entry's hash (the chain goes on from it); 0 and null before the first. */
  seq: number;
  hash: string | null;
  segments: number;
  files: number;
  rows: number;
  tables: Partial<Record<LakeTableName, TableSummary>>;
}

export interface ManifestCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  summary: ManifestSummary;
  /** SHA-256 of the summary, serialised canonically: a checkpoint damaged in the lake is not taken. */
  hash: string;
}

export function emptySummary(): ManifestSummary {
  return { seq: 0, hash: null, segments: 0, files: 0, rows: 0, tables: {} };
}

/** Adds the entry after `summary.seq` to it (in place: a fold over many entries copies nothing). */
export function addEntry(summary: ManifestSummary, entry: ManifestEntry): ManifestSummary {
  summary.seq = entry.seq;
  summary.hash = entry.hash;
  summary.segments++;
  for (const [name, table] of Object.entries(entry.tables) as [LakeTableName, NonNullable<ManifestEntry['tables'][LakeTableName]>][]) {
    const known = summary.tables[name];
    if (known) Object.assign(known, { version: table.version, columns: table.columns });
    else summary.tables[name] = { version: table.version, columns: table.columns, folders: {}, latestCopy: null };
  }
  for (const file of entry.files) {
    summary.files++;
    summary.rows += file.rows;
    const table = (summary.tables[file.table] ??= { version: file.schemaVersion, columns: null, folders: {}, latestCopy: null });
    const columns = entry.tables[file.table]?.columns ?? null;
    const name = file.path.slice(0, file.path.indexOf('/'));
    const folder = table.folders[name];
    if (!folder) table.folders[name] = { files: 1, rows: file.rows, columns };
    else {
      folder.files++;
      folder.rows += file.rows;
      if (folder.columns !== null && (columns === null || columnsText(columns) !== columnsText(folder.columns))) folder.columns = null;
    }
    if (file.path.includes('/snapshot=')) table.latestCopy = file.path;
  }
  return summary;
}

/** A set of columns as text, made once: `lake verify` folds every entry, each with a file a server, day and table. */
const textOfColumns = new WeakMap<[string, string][], string>();
function columnsText(columns: [string, string][]): string {
  let text = textOfColumns.get(columns);
  if (text === undefined) textOfColumns.set(columns, (text = JSON.stringify(columns)));
  return text;
}

export function summarize(entries: readonly ManifestEntry[]): ManifestSummary {
  const summary = emptySummary();
  for (const entry of entries) addEntry(summary, entry);
  return summary;
}

/**
 * Whether the table's files in these folders all have one set of columns, so DuckDB may read them without a union
 * by name, which reads every file's schema first (seconds a table in a lake of a few weeks). A version's files all
 * have its columns (the export refuses a change without a new version); a lake written before that check may not.
 */
export function oneColumnSet(summary: ManifestSummary, name: LakeTableName, folders: Iterable<string>): boolean {
  const sets = new Set<string>();
  for (const folder of folders) {
    const columns = summary.tables[name]?.folders[folder]?.columns;
    if (!columns) return false;
    sets.add(columnsText(columns));
  }
  return sets.size <= 1;
}

export function checkpointPath(seq: number): string {
  return `${CHECKPOINT_FOLDER}/${String(seq).padStart(8, '0')}.json`;
}

export function sealCheckpoint(summary: ManifestSummary): ManifestCheckpoint {
  return { format: CHECKPOINT_FORMAT, summary, hash: sha256Hex(canonicalJson(summary)) };
}

export function serializeCheckpoint(checkpoint: ManifestCheckpoint): string {
  return `${canonicalJson(checkpoint)}\n`;
}

/** A checkpoint read back, or the reason it cannot be taken. */
export function parseCheckpoint(text: string): ManifestCheckpoint | { problem: string } {
  let value: Partial<ManifestCheckpoint>;
  try {
    value = JSON.parse(text) as Partial<ManifestCheckpoint>;
  } catch (error) {
    return { problem: `is not JSON (${(error as Error).message})` };
  }
  if (value?.format !== CHECKPOINT_FORMAT || typeof value.summary?.seq !== 'number') return { problem: `is not an auditduck lake checkpoint (format ${String(value?.format)})` };
  if (sha256Hex(canonicalJson(value.summary)) !== value.hash) return { problem: 'was altered (its hash does not match its content)' };
  return value as ManifestCheckpoint;
}

/** Whether two folds are the same, whatever order their keys were added in. */
export function sameSummary(a: ManifestSummary, b: ManifestSummary): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with every object's keys sorted: a fold made in another order serialises, and hashes, the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
