/**
 * The lake's manifest: one JSON object per segment at `_manifest/<seq>.json`, never rewritten. Each entry
 * names its files with their row counts, time range and SHA-256, the source positions the store had
 * committed when the segment was cut, and the hash of the entry before it: a segment deleted, altered or
 * left out breaks the chain or a checksum, and `auditduck lake verify` names it.
 */
import { sha256Hex } from './lake-storage.js';
import type { LakeTableName } from './lake-tables.js';

export const MANIFEST_FORMAT = 'auditduck-lake-manifest/1';
export const MANIFEST_FOLDER = '_manifest';

export interface ManifestFile {
  /** Relative to the lake's root. */
  path: string;
  table: LakeTableName;
  schemaVersion: number;
  rows: number;
  /** The rows' first and last time (events tables); null for state snapshots. */
  minTime: string | null;
  maxTime: string | null;
  bytes: number;
  sha256: string;
}

export interface ManifestEntry {
  format: typeof MANIFEST_FORMAT;
  seq: number;
  segment: string;
  createdAt: string;
  /** `hash` of entry `seq - 1`; null for the first. */
  previous: string | null;
  /** source key → position, as committed in the store when the segment was cut. */
  positions: Record<string, string>;
  files: ManifestFile[];
  /** Each table's lake schema version and columns (name, DuckDB type) when the segment was cut; `server` and `date` come from the path. */
  tables: Partial<Record<LakeTableName, { version: number; columns: [string, string][] }>>;
  /** SHA-256 of this entry without `hash`, as serialised. */
  hash: string;
}

export function manifestPath(seq: number): string {
  return `${MANIFEST_FOLDER}/${String(seq).padStart(8, '0')}.json`;
}

export function sealEntry(body: Omit<ManifestEntry, 'hash'>): ManifestEntry {
  return { ...body, hash: entryHash(body) };
}

export function entryHash(entry: Omit<ManifestEntry, 'hash'> | ManifestEntry): string {
  const { hash: _ignored, ...body } = entry as ManifestEntry;
  return sha256Hex(JSON.stringify(body));
}

export function serializeEntry(entry: ManifestEntry): string {
  return `${JSON.stringify(entry, null, 1)}\n`;
}

/** An entry read back, or the reason it cannot be one. */
export function parseEntry(text: string): ManifestEntry | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `is not JSON (${(error as Error).message})` };
  }
  const e = value as Partial<ManifestEntry>;
  if (e?.format !== MANIFEST_FORMAT) return { problem: `is not an auditduck lake manifest entry (format ${String(e?.format)})` };
  if (typeof e.seq !== 'number' || typeof e.segment !== 'string' || !Array.isArray(e.files) || typeof e.hash !== 'string') return { problem: 'lacks seq, segment, files or hash' };
  return e as ManifestEntry;
}
