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
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { statusOf } from './leader-lease.js';

export interface CommitIntent {
  sequenceNumber: number;
  by: string;
  generation: number;
}

export interface PartitionState {
  /** The highest generation that fenced the partition; a writer with a lower one is cut off. */
  generation: number;
  /** The last sequence number stored by any instance; null before the first commit. */
  committed: number | null;
  committedBy: string | null;
  /** A batch being committed (written before the store's COMMIT, cleared after it). */
  intent: CommitIntent | null;
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
  return stored
    ? { ...state, committed: Math.max(intent.sequenceNumber, state.committed ?? -1), committedBy: instanceId, intent: null }
    : { ...state, intent: null };
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

  beginCommit(partitionId: string, generation: number, sequenceNumber: number): Promise<PartitionState> {
    return this.update(partitionId, (state) => {
      if (state.generation !== generation) throw new FencedError(partitionId, generation, state.generation);
      return { ...state, intent: { sequenceNumber, by: this.instanceId, generation } };
    });
  }

  /** Records the committed batch; refused (FencedError) only when the intent is no longer ours. */
  endCommit(partitionId: string, generation: number, sequenceNumber: number): Promise<PartitionState> {
    return this.update(partitionId, (state) => {
      const ours = state.intent?.by === this.instanceId && state.intent.sequenceNumber === sequenceNumber;
      if (!ours) throw new FencedError(partitionId, generation, state.generation);
      return { ...state, committed: Math.max(sequenceNumber, state.committed ?? -1), committedBy: this.instanceId, intent: null };
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
      const properties = await blob.getProperties();
      const versioned = { state: parseState(properties.metadata), etag: properties.etag ?? '' };
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
        const written = await this.blob(partitionId).setMetadata(stateMetadata(next), { conditions: { ifMatch: current.etag } });
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
