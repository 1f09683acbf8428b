/**
 * The fence of balanced ownership (a keyed hub read by several `run` instances). The SDK's ownership blobs
 * say who should read a partition, but an instance that lost one still finishes the batch in flight, and
 * the new owner resumes after the Blob checkpoint, which trails the stores: without a fence that batch is
 * stored by both. This reuses the leader mode's partition register (fleet/partition-register.ts):
 *
 *   partition open  claimNext: generation := generation + 1 (compare-and-swap), then wait until no other
 *                   instance has an intent open; resume strictly after the register's committed number
 *   before COMMIT   beginCommit(g, n): refused (FencedError) once another instance opened the partition
 *   after COMMIT    endCommit(n): committed := n (allowed to a fenced instance: its intent, its store)
 *
 * An intent carries the batch's marks of routed origins; committed, they join the partition's, and a new owner
 * starts from them (`PartitionHold.marks`): a record route published twice is dropped by whichever instance
 * reads the later copy, not only by the one that stored the first.
 *
 * So a batch is stored by one instance only, whichever way a move and a COMMIT interleave. The one way
 * around it is an instance killed between intent and outcome that stays away past `inDoubtTimeoutMs`:
 * the new owner then reads that batch again (docs/fleet.md).
 */
import type { Logger } from 'pino';
import type { PartitionRegister, RoutedMarks } from '../fleet/partition-register.js';

export interface FenceTiming {
  /** How long a new owner waits for an instance killed while committing to come back and settle its batch. */
  inDoubtTimeoutMs: number;
  pollMs: number;
}

/** This instance's hold on a partition: the generation it opened it with, and what the fleet had stored. */
export interface PartitionHold {
  generation: number;
  committed: number | null;
  /** The marks of routed origins stored from the partition by any instance, up to `committed`. */
  marks: RoutedMarks;
}

type Stored = (partitionId: string) => Promise<number | null>;

export class BalancedFence {
  /** A commit of this instance in progress per partition: a re-open waits for it before settling intents. */
  private readonly committing = new Map<string, Promise<unknown>>();
  /** Aborted at close: an open waiting on another instance's intent gives up instead of keeping the process up. */
  private readonly closing = new AbortController();

  constructor(
    private readonly register: PartitionRegister,
    private readonly stored: Stored,
    private readonly timing: FenceTiming,
    private readonly log?: Logger,
  ) {}

  /** Back after a kill: settles the intents this instance left open, so a new owner waiting on them goes on. */
  async settleOwn(): Promise<void> {
    for (const partitionId of await this.register.partitionIds()) {
      const before = await this.register.read(partitionId);
      if (before.intent?.by !== this.register.instanceId) continue;
      const after = await this.register.resolveOwn(partitionId, await this.stored(partitionId));
      this.log?.info({ partition: partitionId, intent: before.intent.sequenceNumber, committed: after.committed }, 'settled the batch this instance was stopped in');
    }
  }

  /** Takes the partition with a new generation; cuts off the instance that had it at its next commit. */
  async open(partitionId: string): Promise<PartitionHold> {
    const claimed = await this.register.claimNext(partitionId);
    await this.committing.get(partitionId)?.catch(() => undefined);
    const { state, gaveUp } = await this.register.awaitSettled(partitionId, () => this.stored(partitionId), this.timing.inDoubtTimeoutMs, this.timing.pollMs, this.closing.signal);
    if (gaveUp) {
      this.log?.warn(
        { partition: partitionId, instance: gaveUp.by, intent: gaveUp.sequenceNumber, committed: state.committed },
        'the instance killed while committing did not come back within balancing.inDoubtTimeoutMs: reading its last batch again (it may be in its store too)',
      );
    }
    return { generation: claimed.generation, committed: state.committed, marks: state.marks ?? {} };
  }

  /** Stops every wait of `open`: the subscription is closing. */
  close(): void {
    this.closing.abort(new Error('the Event Hubs source is closing'));
  }

  /**
   * Stores a batch under the hold: intent first, refused (FencedError, nothing stored) when another instance
   * opened the partition since; the outcome recorded after. `committedSoFar` is what this store holds;
   * `marks` the routed origins' marks the batch moves.
   */
  async commit(
    partitionId: string,
    hold: PartitionHold,
    sequenceNumber: number,
    committedSoFar: number | null,
    store: () => Promise<void>,
    marks: RoutedMarks = {},
  ): Promise<void> {
    const work = (async () => {
      if (committedSoFar !== null) await this.register.resolveOwn(partitionId, committedSoFar);
      await this.register.beginCommit(partitionId, hold.generation, sequenceNumber, marks);
      try {
        await store();
      } catch (error) {
        await this.register.abortCommit(partitionId).catch((abortError: unknown) => this.log?.warn({ partition: partitionId, error: (abortError as Error).message }, 'could not withdraw the intent'));
        throw error;
      }
      try {
        await this.register.endCommit(partitionId, hold.generation, sequenceNumber);
      } catch (error) {
        // The store has the batch; the intent stays open and is settled at the next commit, open or restart.
        this.log?.warn({ partition: partitionId, error: (error as Error).message }, 'could not record the commit in the partition register');
      }
    })();
    this.committing.set(partitionId, work);
    try {
      await work;
    } finally {
      if (this.committing.get(partitionId) === work) this.committing.delete(partitionId);
    }
  }
}
