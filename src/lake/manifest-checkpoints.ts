/**
 * Reading the manifest from its newest checkpoint, and writing checkpoints as segments are published. A reader
 * lists the checkpoints (one per CHECKPOINT_EVERY segments), takes the newest it can, and reads the entries after it,
 * a block of a thousand names at a time: never the whole `_manifest/` folder, once a checkpoint exists.
 */
import { addEntry, checkpointPath, CHECKPOINT_FOLDER, emptySummary, parseCheckpoint, sealCheckpoint, serializeCheckpoint, type ManifestSummary } from './manifest-summary.js';
import { MANIFEST_FOLDER, parseEntry, type ManifestEntry } from './manifest.js';
import type { LakeStorage } from './lake-storage.js';

/**
 * The manifest folded through its newest entry (or through `through`): from the newest checkpoint whose segment the
 * entries after it chain to, else from the first entry. Entries that cannot be read are left out, as a reader always
 * has: `auditduck lake verify` names them.
 */
export async function readManifest(lake: LakeStorage, through = Number.POSITIVE_INFINITY): Promise<ManifestSummary> {
  const checkpoints = (await lake.list(`${CHECKPOINT_FOLDER}/`)).filter((path) => seqOfPath(path) <= through).reverse();
  for (const path of checkpoints) {
    const text = await lake.get(path);
    const checkpoint = text === null ? null : parseCheckpoint(text.toString('utf8'));
    if (checkpoint === null || 'problem' in checkpoint) continue;
    const after = await entriesAfter(lake, checkpoint.summary.seq, through);
    const first = after[0];
    if (first !== undefined && (first.seq !== checkpoint.summary.seq + 1 || first.previous !== checkpoint.summary.hash)) continue;
    return after.reduce(addEntry, checkpoint.summary);
  }
  return (await entriesAfter(lake, 0, through)).reduce(addEntry, emptySummary());
}

/** The checkpoint through the segment `entry`, once it is published. */
export async function writeCheckpoint(lake: LakeStorage, entry: ManifestEntry): Promise<void> {
  const summary = await readManifest(lake, entry.seq);
  if (summary.seq !== entry.seq || summary.hash !== entry.hash) throw new Error(`the manifest read back ends at segment ${summary.seq}, not at ${entry.segment}: no checkpoint written (auditduck lake verify)`);
  await lake.putText(checkpointPath(entry.seq), serializeCheckpoint(sealCheckpoint(summary)));
}

/** The entries numbered above `seq` (up to `through`), in order; those that cannot be read are left out. */
export async function entriesAfter(lake: LakeStorage, seq: number, through = Number.POSITIVE_INFINITY): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const path of await entryPathsAfter(lake, seq)) {
    const n = seqOfPath(path);
    if (n > through) continue;
    const text = await lake.get(path);
    const entry = text === null ? null : parseEntry(text.toString('utf8'));
    if (entry !== null && !('problem' in entry)) entries.push(entry);
  }
  return entries.sort((a, b) => a.seq - b.seq);
}

/** The paths of the entries numbered above `seq`, in order: from the block of a thousand names after it on. */
export async function entryPathsAfter(lake: LakeStorage, seq: number): Promise<string[]> {
  if (seq === 0) return (await lake.list(`${MANIFEST_FOLDER}/`)).filter((path) => seqOfPath(path) > 0).sort();
  const paths: string[] = [];
  // Names are 8 digits: the first five name a block of a thousand. From the block after `seq` to the first empty one.
  for (let block = Math.floor((seq + 1) / 1000); ; block++) {
    const names = await lake.list(`${MANIFEST_FOLDER}/${String(block).padStart(5, '0')}`);
    if (names.length === 0) break;
    for (const name of names) if (seqOfPath(name) > seq) paths.push(name);
  }
  return paths.sort();
}

/** The number in a manifest entry's or checkpoint's name (`<folder>/00001234.json`); NaN for another name. */
export function seqOfPath(path: string): number {
  const match = /\/(\d{8})\.json$/.exec(path);
  return match ? Number(match[1]) : Number.NaN;
}
