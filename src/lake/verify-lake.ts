/**
 * `auditduck lake verify`: the lake is complete and intact when its manifest chain has no gap and no
 * broken link, every file an entry names is there with its SHA-256, no data file is outside the manifest (a row
 * would be read twice, or a file was slipped in), and every checkpoint is the fold of the entries through its
 * segment. Each problem names its segment.
 * The lake alone cannot show that its newest segments were removed together with their entries: given
 * the store's published segments (`expected`), that is checked too.
 */
import { entryHash, MANIFEST_FOLDER, manifestPath, parseEntry, type ManifestEntry } from './manifest.js';
import { sha256Hex, type LakeStorage } from './lake-storage.js';
import { seqOfPath } from './manifest-checkpoints.js';
import { addEntry, CHECKPOINT_FOLDER, emptySummary, parseCheckpoint, sameSummary } from './manifest-summary.js';

export interface LakeProblem {
  /** The segment's name, or `#<seq>` for a segment whose entry is gone. */
  segment: string;
  problem: string;
}

export interface LakeVerification {
  segments: number;
  files: number;
  rows: number;
  problems: LakeProblem[];
  entries: ManifestEntry[];
}

export interface VerifyOptions {
  /** Segments the store published, seq → entry hash: each must be in the lake as it was written. */
  expected?: ReadonlyMap<number, string>;
}

export async function verifyLake(lake: LakeStorage, opts: VerifyOptions = {}): Promise<LakeVerification> {
  const problems: LakeProblem[] = [];
  const entries: ManifestEntry[] = [];
  for (const path of await lake.list(`${MANIFEST_FOLDER}/`)) {
    const text = await lake.get(path);
    const parsed = text === null ? { problem: 'vanished while read' } : parseEntry(text.toString('utf8'));
    if ('problem' in parsed) problems.push({ segment: path, problem: `manifest entry ${path} ${parsed.problem}` });
    else entries.push(parsed);
  }
  entries.sort((a, b) => a.seq - b.seq);

  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  // Folded, not spread into Math.max: a year of `run`'s segments is half a million, past the call stack's reach.
  const last = [...(opts.expected?.keys() ?? [])].reduce((n, seq) => Math.max(n, seq), entries.at(-1)?.seq ?? 0);
  for (let seq = 1; seq <= last; seq++) {
    const entry = bySeq.get(seq);
    if (!entry) {
      const next = entries.find((e) => e.seq > seq);
      problems.push({ segment: `#${seq}`, problem: `segment ${seq} is missing: its manifest entry is gone${next ? ` (the chain breaks before ${next.segment})` : ' (it was the newest the store published)'}` });
      continue;
    }
    const before = bySeq.get(seq - 1);
    problems.push(...entryProblems(entry, seq > 1 && before ? { segment: before.segment, hash: before.hash } : null, opts.expected?.get(seq)));
  }

  const listed = new Set<string>();
  let files = 0;
  let rows = 0;
  for (const entry of entries) {
    for (const file of entry.files) {
      listed.add(file.path);
      files++;
      rows += file.rows;
    }
    problems.push(...(await fileProblems(lake, entry)));
  }
  problems.push(...(await checkpointProblems(lake, entries)));
  for (const path of await lake.list('')) {
    if (path.startsWith(`${MANIFEST_FOLDER}/`) || path.startsWith(`${CHECKPOINT_FOLDER}/`) || listed.has(path)) continue;
    const segment = /part-(\d{8}-[0-9a-f]{12})/.exec(path)?.[1] ?? 'unknown';
    problems.push({ segment, problem: `${path} is in the lake but in no manifest entry` });
  }
  return { segments: entries.length, files, rows, problems, entries };
}

/** Each checkpoint that cannot be read or is not the fold of the entries through its segment. */
async function checkpointProblems(lake: LakeStorage, entries: readonly ManifestEntry[]): Promise<LakeProblem[]> {
  const problems: LakeProblem[] = [];
  const checkpoints = new Map((await lake.list(`${CHECKPOINT_FOLDER}/`)).map((path) => [seqOfPath(path), path]));
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  for (const [seq, path] of checkpoints) {
    if (!bySeq.has(seq)) problems.push({ segment: `#${seq}`, problem: `${path} is a checkpoint of a segment the manifest does not hold` });
  }
  const folded = emptySummary();
  for (const entry of entries) {
    addEntry(folded, entry);
    const path = checkpoints.get(entry.seq);
    if (path === undefined) continue;
    const text = await lake.get(path);
    const checkpoint = text === null ? { problem: 'vanished while read' } : parseCheckpoint(text.toString('utf8'));
    if ('problem' in checkpoint) problems.push({ segment: entry.segment, problem: `checkpoint ${path} ${checkpoint.problem}` });
    else if (!sameSummary(checkpoint.summary, folded)) problems.push({ segment: entry.segment, problem: `checkpoint ${path} differs from the manifest's entries through ${entry.segment}` });
  }
  return problems;
}

/** The last segment verified before: its number and its entry's hash. */
export interface VerifiedSegment {
  seq: number;
  hash: string;
}

/**
 * The segments the store published after `after` (`published`: seq → entry hash, in order), verified as
 * `lake verify` does each (entry, chain, the store's hash, every file's SHA-256), reading only their entries by
 * name and their files: no listing, nothing older. `verified` is the run of them with no problem, from the first.
 * What it cannot see (an older segment altered since, a file slipped in) is `lake verify`'s to find.
 */
export async function verifySegmentsAfter(lake: LakeStorage, after: VerifiedSegment | null, published: ReadonlyMap<number, string>): Promise<{ verified: ManifestEntry[]; problems: LakeProblem[] }> {
  const verified: ManifestEntry[] = [];
  const problems: LakeProblem[] = [];
  let previous: { segment: string; hash: string } | null = after ? { segment: `#${after.seq}`, hash: after.hash } : null;
  for (const [seq, hash] of [...published].sort(([a], [b]) => a - b)) {
    const path = manifestPath(seq);
    const text = await lake.get(path);
    const parsed = text === null ? { problem: 'is missing' } : parseEntry(text.toString('utf8'));
    if ('problem' in parsed) {
      problems.push({ segment: `#${seq}`, problem: `manifest entry ${path} of a segment the store published ${parsed.problem}` });
      break;
    }
    const found = [...entryProblems(parsed, previous, hash), ...(await fileProblems(lake, parsed))];
    if (found.length > 0) {
      problems.push(...found);
      break;
    }
    verified.push(parsed);
    previous = { segment: parsed.segment, hash: parsed.hash };
  }
  return { verified, problems };
}

/** What is wrong with an entry itself: its hash, its link to the entry before (when known), the store's hash of it. */
function entryProblems(entry: ManifestEntry, before: { segment: string; hash: string } | null, expected: string | undefined): LakeProblem[] {
  const problems: LakeProblem[] = [];
  if (entryHash(entry) !== entry.hash) problems.push({ segment: entry.segment, problem: `manifest entry of ${entry.segment} was altered (its hash does not match its content)` });
  if (before && entry.previous !== before.hash) problems.push({ segment: entry.segment, problem: `${entry.segment} does not chain to ${before.segment} (previous hash differs)` });
  if (expected !== undefined && expected !== entry.hash) problems.push({ segment: entry.segment, problem: `${entry.segment} differs from the entry the store published` });
  return problems;
}

/** Each file of the entry that is missing or whose SHA-256 differs. */
async function fileProblems(lake: LakeStorage, entry: ManifestEntry): Promise<LakeProblem[]> {
  const problems: LakeProblem[] = [];
  for (const file of entry.files) {
    const bytes = await lake.get(file.path);
    if (bytes === null) problems.push({ segment: entry.segment, problem: `${file.path} of segment ${entry.segment} is missing` });
    else if (sha256Hex(bytes) !== file.sha256) problems.push({ segment: entry.segment, problem: `${file.path} of segment ${entry.segment} was altered (SHA-256 differs)` });
  }
  return problems;
}
