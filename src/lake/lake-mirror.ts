/**
 * A Blob lake's local copy, for `query --lake` and `serve --lake`: DuckDB cannot load its `azure` extension here,
 * so it reads a folder that is a directory lake of its own (the same paths, entries and checkpoints). The copy is
 * kept between reads: each copies only the segments published since the last one it has (their files, then their
 * entries, so a copy cut short is only behind) and the checkpoints it lacks. The first copies the whole lake.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { entryPathsAfter, seqOfPath } from './manifest-checkpoints.js';
import { CHECKPOINT_FOLDER } from './manifest-summary.js';
import { MANIFEST_FOLDER, parseEntry, type ManifestFile } from './manifest.js';
import { DirectoryLake, sha256Hex, type LakeStorage } from './lake-storage.js';

/** Where a lake's copy is kept: AUDITDUCK_LAKE_MIRROR, else the user's cache folder, one folder a lake. */
export function mirrorFolderOf(lake: LakeStorage, env: NodeJS.ProcessEnv = process.env): string {
  if (env.AUDITDUCK_LAKE_MIRROR) return env.AUDITDUCK_LAKE_MIRROR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'auditduck', 'lake-mirrors', createHash('sha256').update(lake.description).digest('hex').slice(0, 16));
}

/** Brings the copy in `dir` up to the lake's newest segment; returns it as a directory lake. */
export async function syncMirror(lake: LakeStorage, dir: string): Promise<DirectoryLake> {
  // Audit rows: readable by this user only.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mirror = new DirectoryLake(dir);
  const have = await mirror.list(`${MANIFEST_FOLDER}/`);
  const last = have.length === 0 ? 0 : seqOfPath(have.at(-1)!);
  if (last > 0) {
    // A container emptied and written again from the start has other segments under the same names.
    const theirs = await lake.get(have.at(-1)!);
    const ours = await mirror.get(have.at(-1)!);
    if (theirs === null || !theirs.equals(ours!)) throw new Error(`the local copy in ${dir} holds a segment ${last} that the lake ${lake.description} does not: it is a copy of another lake; delete it (or set AUDITDUCK_LAKE_MIRROR to another folder)`);
  }
  let newest = last;
  for (const path of await entryPathsAfter(lake, last)) {
    const text = (await lake.get(path))?.toString('utf8');
    if (text === undefined) throw new Error(`manifest entry ${path} of the lake ${lake.description} vanished while read`);
    const entry = parseEntry(text);
    if ('problem' in entry) throw new Error(`manifest entry ${path} of the lake ${lake.description} ${entry.problem}: run auditduck lake verify`);
    await copyFiles(lake, entry.files, dir);
    await mirror.putText(path, text);
    newest = entry.seq;
  }
  // Only checkpoints of segments the copy holds: one put since the entries were listed waits for the next read.
  const checkpoints = new Set(await mirror.list(`${CHECKPOINT_FOLDER}/`));
  for (const path of await lake.list(`${CHECKPOINT_FOLDER}/`)) {
    if (checkpoints.has(path) || !(seqOfPath(path) <= newest)) continue;
    const text = await lake.get(path);
    if (text !== null) await mirror.putText(path, text.toString('utf8'));
  }
  return mirror;
}

/**
 * Copies into `dir` the files not there yet, each checked against its manifest entry's SHA-256 and put whole
 * (written beside, then renamed), so a copy cut short holds no half file.
 */
export async function copyFiles(lake: LakeStorage, files: readonly ManifestFile[], dir: string): Promise<void> {
  for (const file of files) {
    const target = join(dir, ...file.path.split('/'));
    if (await stat(target).then(() => true, () => false)) continue;
    const bytes = await lake.get(file.path);
    if (bytes === null) throw new Error(`${file.path} is missing from the lake: run auditduck lake verify`);
    if (sha256Hex(bytes) !== file.sha256) throw new Error(`${file.path} in the lake is not the file its manifest entry names (SHA-256 differs): run auditduck lake verify`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.partial`, bytes);
    await rename(`${target}.partial`, target);
  }
}
