/**
 * What the store's writer and an ingest worker thread say to each other: a range of a file to gather into a
 * chunk file (`RangeTask`), and the batch gathered from it (`RangeResult`). Everything here crosses the thread
 * boundary by structured clone, so it is plain data.
 */
import type { DetectionConfigInput } from '../../detect/index.js';
import type { LogFormat } from '../../decode/formats/log-formats.js';
import type { CommitTarget } from '../../store/audit-store.js';
import type { ChunkBatch } from '../ingest-pipeline.js';

/** Given once to each worker thread. */
export interface WorkerSetup {
  analyzePrivileges: boolean;
  /** The detection configuration whose rules decide which entries a batch keeps for detection; null: detection off. */
  detection: DetectionConfigInput | null;
}

export interface RangeTask {
  id: number;
  path: string;
  start: number;
  end: number;
  /** The file's label and identity; the position committed with the batch is `end`. */
  target: CommitTarget;
  format: LogFormat;
  logLinePrefix: string;
  server?: string;
  defaultServer: string;
  /** Where the worker writes the chunk files: a path nothing else uses, to which each adds its table's name. */
  out: string;
}

export type RangeResult = { id: number; batch: ChunkBatch } | { id: number; error: string };
