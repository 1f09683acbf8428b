/**
 * One blob per partition (`<namespace>/<hub>/<consumer group>/partition/<id>`) that says, for the whole
 * fleet, how far the partition is stored and by whom. Every write is conditional on the ETag last read
 * (compare-and-swap), so two writers never both win, and every leader write carries its generation:
 *
 *   takeover      fence(g): generation := g, refused when a later leader already fenced it
 *   before COMMIT beginCommit(g, n): intent := n (ours), refused unless generation is still g
 *   after COMMIT  endCommit(n): committed := n, intent cleared — allowed to a fenced writer too, as long as
 *                 the intent is its own: it reports a fact about its own store
 *
 * A new leader never reads a partition while another instance's intent is open: it waits until that
 * instance (restarted after a kill) resolves it from its own store (`resolveOwn`), so the batch is
 * stored once whichever way its COMMIT went. Only when that instance stays away past `inDoubtTimeoutMs`
 * does the new leader read the batch again; the copy then carries the same (source, position) and fleet
 * queries drop it (docs/fleet.md).
 *
 * Balanced ownership of a keyed hub (`run` behind `auditduck route`) also keeps the fleet's marks of routed
 * origins here (sources/eventhubs/routed-origins.ts): an intent carries its batch's marks, and they join the
 * partition's marks when the intent is settled as committed. A new owner thus drops a routed record that
 * another instance stored from an earlier event of the partition, not only one its own store holds. The marks
 * are the blob's body (they outgrow metadata); the rest stays in metadata.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { statusOf } from './leader-lease.js';
import { streamToBuffer } from './blob-container.js';
import { compareOrigins, parseOriginPosition } from '../../../contracts/record-origin.js';

/** Mark key → the last routed origin stored under it (`<sequence>#<index>`): see routed-origins.ts. */
export type RoutedMarks = Readonly<Record<string, string>>;

export interface CommitIntent {
  sequenceNumber: number;
  by: string;
  generation: number;
  /** The marks the batch moves (balanced ownership of a keyed hub): the partition's once the intent is committed. */
  marks?: RoutedMarks;
}

export interface PartitionState {
  /** The highest generation that fenced the partition; a writer with a lower one is cut off. */
  generation: number;
  /** The last sequence number stored by any instance; null before the first commit. */
  committed: number | null;
  committedBy: string | null;
  /** A batch being committed (written before the store's COMMIT, cleared after it). */
  intent: CommitIntent | null;
  /** Balanced ownership of a keyed hub: the marks of every batch committed on the partition, by any instance. */
  marks?: RoutedMarks;
}

/** The writer's generation is older than the partition's: another instance leads now. */
export class FencedError extends Error {
  constructor(
    readonly partitionId: string,
    readonly ownGeneration: number,
    readonly currentGeneration: number,
  ) {
    super(`partition ${partitionId} is fenced: this instance leads generation ${ownGeneration}, the hub is at generation ${currentGeneration}`);
    this.name = 'FencedError';
  }
}

export function parseState(metadata: Record<string, string> | undefined): PartitionState {
  const number = (value: string | undefined): number | null => (value !== undefined && /^\d+$/.test(value) ? Number(value) : null);
  const intentAt = number(metadata?.intent);
  return {
    generation: number(metadata?.generation) ?? 0,
    committed: number(metadata?.committed),
    committedBy: metadata?.committedby || null,
    intent: intentAt === null ? null : { sequenceNumber: intentAt, by: metadata?.intentby ?? '', generation: number(metadata?.intentgeneration) ?? 0 },
  };
}

export function stateMetadata(state: PartitionState): Record<string, string> {
  return {
    generation: String(state.generation),
    committed: state.committed === null ? '' : String(state.committed),
    committedby: state.committedBy ?? '',
    intent: state.intent ? String(state.intent.sequenceNumber) : '',
    intentby: state.intent?.by ?? '',
    intentgeneration: state.intent ? String(state.intent.generation) : '',
  };
}

/** How an instance settles its own open intent: committed when its store holds the batch, else dropped. */
export function resolveIntent(state: PartitionState, instanceId: string, storedSequenceNumber: number | null): PartitionState | null {
  const intent = state.intent;
  if (!intent || intent.by !== instanceId) return null;
  const stored = storedSequenceNumber !== null && storedSequenceNumber >= intent.sequenceNumber;
  return stored ? committedState(state, instanceId) : { ...state, intent: null };
}

/** The state once the open intent is committed: its sequence number and its marks are the partition's. */
function committedState(state: PartitionState, instanceId: string): PartitionState {
  const intent = state.intent!;
  const marks = intent.marks && Object.keys(intent.marks).length > 0 ? { marks: mergeMarks(state.marks ?? {}, intent.marks) } : {};
  return { ...state, committed: Math.max(intent.sequenceNumber, state.committed ?? -1), committedBy: instanceId, intent: null, ...marks };
}

/** Per key, the later of two marks (a mark that does not parse as an origin position yields to one that does). */
export function mergeMarks(base: RoutedMarks, more: RoutedMarks): RoutedMarks {
  const merged: Record<string, string> = { ...base };
  for (const [key, position] of Object.entries(more)) {
    const before = parseOriginPosition(merged[key] ?? null);
    const after = parseOriginPosition(position);
    if (after !== null && (before === null || compareOrigins(after, before) > 0)) merged[key] = position;
  }
  return merged;
}

/** The blob's body: the marks of the partition and of the open intent (empty without routed marks). */
function marksBody(state: PartitionState): string {
  const marks = state.marks ?? {};
  const intentMarks = state.intent?.marks ?? {};
  return Object.keys(marks).length === 0 && Object.keys(intentMarks).length === 0 ? '' : JSON.stringify({ marks, intentMarks });
}

function withMarksBody(state: PartitionState, body: string): PartitionState {
  if (body.trim() === '') return state;
  const parsed = JSON.parse(body) as { marks?: Record<string, string>; intentMarks?: Record<string, string> };
  const marks = parsed.marks && Object.keys(parsed.marks).length > 0 ? { marks: parsed.marks } : {};
  const intent = state.intent && parsed.intentMarks && Object.keys(parsed.intentMarks).length > 0 ? { ...state.intent, marks: parsed.intentMarks } : state.intent;
  return { ...state, ...marks, intent };
}

interface Versioned {
  state: PartitionState;
  etag: string;
}

export class PartitionRegister {
  private readonly known = new Map<string, Versioned>();

  constructor(
    private readonly container: ContainerClient,
    /** `<namespace>/<hub>/<consumer group>` */
    private readonly prefix: string,
    readonly instanceId: string,
  ) {}

  async read(partitionId: string): Promise<PartitionState> {
    return (await this.fetch(partitionId)).state;
  }

  /** Takes the partition for `generation`; throws FencedError when a later leader has it. */
  fence(partitionId: string, generation: number): Promise<PartitionState> {
    return this.update(partitionId, (state) => {
      if (state.generation > generation) throw new FencedError(partitionId, generation, state.generation);
      return state.generation === generation ? null : { ...state, generation };
    });
  }

  /** Takes the partition with the next generation (balanced ownership: one claim per partition open). */
  claimNext(partitionId: string): Promise<PartitionState> {
    return this.update(partitionId, (state) => ({ ...state, generation: state.generation + 1 }));
  }

  /** The partitions with a register blob. */
  async partitionIds(): Promise<string[]> {
    const ids: string[] = [];
    const prefix = `${this.prefix}/partition/`;
    for await (const blob of this.container.listBlobsFlat({ prefix })) ids.push(blob.name.slice(prefix.length));
    return ids;
  }

  beginCommit(partitionId: string, generation: number, sequenceNumber: number, marks?: RoutedMarks): Promise<PartitionState> {
    return this.update(partitionId, (state) => {
      if (state.generation !== generation) throw new FencedError(partitionId, generation, state.generation);
      return { ...state, intent: { sequenceNumber, by: this.instanceId, generation, ...(marks && Object.keys(marks).length > 0 ? { marks } : {}) } };
    });
  }

  /** Records the committed batch; refused (FencedError) only when the intent is no longer ours. */
  endCommit(partitionId: string, generation: number, sequenceNumber: number): Promise<PartitionState> {
    return this.update(partitionId, (state) => {
      const ours = state.intent?.by === this.instanceId && state.intent.sequenceNumber === sequenceNumber;
      if (!ours) throw new FencedError(partitionId, generation, state.generation);
      return committedState(state, this.instanceId);
    });
  }

  /** The store did not commit the batch: its intent goes. */
  abortCommit(partitionId: string): Promise<PartitionState> {
    return this.update(partitionId, (state) => (state.intent?.by === this.instanceId ? { ...state, intent: null } : null));
  }

  /** Settles an intent this instance left open (it was killed, or fenced, between intent and outcome). */
  resolveOwn(partitionId: string, storedSequenceNumber: number | null): Promise<PartitionState> {
    return this.update(partitionId, (state) => resolveIntent(state, this.instanceId, storedSequenceNumber));
  }

  /**
   * Waits until no other instance has an intent open on the partition (own ones are settled from the
   * store at once). Returns the state and whether it gave up waiting.
   */
  async awaitSettled(
    partitionId: string,
    storedSequenceNumber: () => Promise<number | null>,
    timeoutMs: number,
    pollMs: number,
    signal?: AbortSignal,
  ): Promise<{ state: PartitionState; gaveUp: CommitIntent | null }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      let state = await this.read(partitionId);
      if (state.intent?.by === this.instanceId) state = await this.resolveOwn(partitionId, await storedSequenceNumber());
      if (!state.intent) return { state, gaveUp: null };
      if (Date.now() >= deadline) return { state, gaveUp: state.intent };
      // A closing instance stops waiting at once: the wait may last `inDoubtTimeoutMs` (minutes).
      await sleep(pollMs, undefined, signal ? { signal } : undefined);
    }
  }

  private blob(partitionId: string): BlobClient {
    return this.container.getBlobClient(`${this.prefix}/partition/${partitionId}`);
  }

  private async fetch(partitionId: string): Promise<Versioned> {
    const blob = this.blob(partitionId);
    try {
      const response = await blob.download();
      const body = response.readableStreamBody ? (await streamToBuffer(response.readableStreamBody)).toString('utf8') : '';
      const versioned = { state: withMarksBody(parseState(response.metadata), body), etag: response.etag ?? '' };
      this.known.set(partitionId, versioned);
      return versioned;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    try {
      const empty: PartitionState = { generation: 0, committed: null, committedBy: null, intent: null };
      const created = await blob.getBlockBlobClient().upload('', 0, { metadata: stateMetadata(empty), conditions: { ifNoneMatch: '*' } });
      const versioned = { state: empty, etag: created.etag ?? '' };
      this.known.set(partitionId, versioned);
      return versioned;
    } catch (error) {
      if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
      return this.fetch(partitionId); // created by another instance meanwhile
    }
  }

  /** Compare-and-swap: applies `change` to the latest state until the write lands on the ETag it read. */
  private async update(partitionId: string, change: (state: PartitionState) => PartitionState | null): Promise<PartitionState> {
    let current = this.known.get(partitionId) ?? (await this.fetch(partitionId));
    for (;;) {
      const next = change(current.state);
      if (next === null) return current.state;
      try {
        const body = marksBody(next);
        const written = await this.blob(partitionId)
          .getBlockBlobClient()
          .upload(body, Buffer.byteLength(body), { metadata: stateMetadata(next), conditions: { ifMatch: current.etag } });
        current = { state: next, etag: written.etag ?? '' };
        this.known.set(partitionId, current);
        return next;
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
        current = await this.fetch(partitionId);
      }
    }
  }
}
