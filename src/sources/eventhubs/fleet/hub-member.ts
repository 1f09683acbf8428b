/**
 * One instance's part in a hub's fleet (`checkpointStore: blob`): it stands by until it wins the hub's
 * lease, then reads every partition as the leader of a new generation, and stops writing the moment it
 * learns that another instance leads (a lost heartbeat, or a commit refused by a partition register).
 *
 * Why this cannot store a batch twice across instances (docs/fleet.md has the long form):
 * 1. A leader of generation g fences every partition register with g before it reads, so any writer of
 *    an earlier generation is refused at its next `beforeCommit`, before its store commits.
 * 2. A writer that passed `beforeCommit` has an intent open on the register; the new leader does not read
 *    that partition until the intent is settled by its owner from its own store (committed or not).
 * 3. The new leader starts each partition strictly after the register's committed sequence number, and
 *    its owner level (= g) makes the service detach the old leader's receivers.
 * The one way around 2 is an owner that never comes back within `inDoubtTimeoutMs`: then that one batch may
 * be in both stores, with the same (source, position), which `query --fleet` drops.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from 'pino';
import type { PositionReader } from '../../source-batch.js';
import type { PartitionMetrics } from '../partition-metrics.js';
import { parseSequencePosition } from '../position-book.js';
import { eventHubsSourceKey, fleetBlobPrefix, type HubCoordinates } from '../source-key.js';
import { LeaderLease, type LeaseTiming } from './leader-lease.js';
import { fairShare, InstanceLeads, mayTakeHub, shouldHandOver } from './fair-share.js';
import { MemberPresence, type LiveMember } from './member-presence.js';
import { FencedError, PartitionRegister } from './partition-register.js';
import { SessionHandoverBlob, type SessionHandoverBody } from './session-handover-blob.js';

/** What the reader of a hub needs from its lead: the owner level and the fence around each commit. */
export interface Lead {
  ownerLevel: number;
  /** Fences every partition and settles open intents; returns the fleet's committed sequence numbers. */
  takeOver(partitionIds: readonly string[], stored: (partitionId: string) => Promise<number | null>): Promise<Map<string, number | null>>;
  /** Refused (FencedError) when this instance no longer leads; `committedSoFar` is what its store holds. */
  beforeCommit(partitionId: string, lastSequenceNumber: number, committedSoFar: number | null): Promise<void>;
  afterCommit(partitionId: string, lastSequenceNumber: number): Promise<void>;
  /**
   * Before a batch's COMMIT (after its intent): writes what this instance knows of sessions (and transactions,
   * and the detection context) when it changed; `inTransaction`: told again after detection, in the transaction.
   */
  handOverSessions(inTransaction?: boolean): Promise<void>;
  commitFailed(partitionId: string): Promise<void>;
}

export type HubRole = 'standby' | 'leader';

/** For /healthz and the logs. */
export interface HubLeadership {
  hub: string;
  instanceId: string;
  role: HubRole;
  /** The generation this instance leads (or last led) with. */
  generation: number | null;
  since: string;
  /** Set when this instance was cut off as leader: it stopped writing. */
  lastFenced: { at: string; reason: string } | null;
  /** Set when this instance last gave the hub to an instance with room (it led more than its fair share). */
  lastHandedOver: string | null;
}

export interface HubReader {
  metrics(): PartitionMetrics[];
  close(): Promise<void>;
}

export interface HubMemberOptions {
  container: ContainerClient;
  target: HubCoordinates;
  instanceId: string;
  leadership: LeaseTiming & { inDoubtTimeoutMs: number };
  readPosition: PositionReader;
  /** What the pipeline knows of sessions: handed to the next leader, taken from the last one. */
  sessions?: SessionHandoverBody;
  log?: Logger;
  /** Shared by the hubs of this instance, for spreading hubs over instances (default: this hub alone). */
  leads?: InstanceLeads;
  /** Starts reading every partition under the given lead. */
  read(lead: Lead): Promise<HubReader>;
}

export interface HubMember {
  metrics(): PartitionMetrics[];
  leadership(): HubLeadership;
  close(): Promise<void>;
}

export async function startHubMember(options: HubMemberOptions): Promise<HubMember> {
  const { container, target, instanceId, leadership: timing, log } = options;
  const prefix = fleetBlobPrefix(target);
  const lease = new LeaderLease(container.getBlobClient(`${prefix}/leader`), instanceId, timing);
  const register = new PartitionRegister(container, prefix, instanceId);
  const presence = new MemberPresence(container, prefix, instanceId, timing.leaseTimeMs);
  const leads = options.leads ?? new InstanceLeads(1);
  const handover = options.sessions ? { blob: new SessionHandoverBlob(container, prefix), body: options.sessions } : null;
  const stored = async (partitionId: string): Promise<number | null> =>
    parseSequencePosition(await options.readPosition(eventHubsSourceKey(target, partitionId)));

  /** Settles what this instance left open, so a new leader waiting on it can go on. */
  const settleOwnIntents = async (): Promise<void> => {
    for (const partitionId of await listRegisteredPartitions(container, prefix)) {
      const before = await register.read(partitionId);
      if (before.intent?.by !== instanceId) continue;
      const after = await register.resolveOwn(partitionId, await stored(partitionId));
      log?.info({ partition: partitionId, intent: before.intent.sequenceNumber, committed: after.committed }, 'settled the batch this instance was stopped in');
    }
  };
  // Back after a kill.
  await settleOwnIntents();

  let status: HubLeadership = {
    hub: target.hubName,
    instanceId,
    role: 'standby',
    generation: null,
    since: new Date().toISOString(),
    lastFenced: null,
    lastHandedOver: null,
  };
  let reading: Promise<HubReader | null> | null = null;
  /** The reader once started, for its metrics. */
  let current: HubReader | null = null;
  let lastMetrics: PartitionMetrics[] = [];
  let closing = false;
  let busy = false;
  /** Batches between an accepted intent and its outcome: a hand-over waits for them before settling. */
  let openCommits = 0;
  const onNoOpenCommits: Array<() => void> = [];
  const commitEnded = (): void => {
    if (--openCommits === 0) for (const resolve of onNoOpenCommits.splice(0)) resolve();
  };
  const noOpenCommits = (): Promise<void> => (openCommits === 0 ? Promise.resolve() : new Promise((resolve) => onNoOpenCommits.push(resolve)));

  /**
   * At takeover, once every batch of the last leader is settled (it wrote its handover before each COMMIT): what
   * it handed over of batches that never committed is left out (this leader reads them again).
   */
  const adoptSessions = async (committed: ReadonlyMap<string, number | null>): Promise<void> => {
    if (!handover) return;
    try {
      const last = await handover.blob.read();
      if (!last) return;
      const sessions = handover.body.adopt(last.body, { self: instanceId, committed: committedCheck(target.hubName, committed) });
      log?.info({ sessions, fromGeneration: last.generation }, 'took over the sessions and the detection context the last leader knew');
    } catch (error) {
      log?.error({ error: (error as Error).message }, 'could not take over the sessions of the last leader: rows of sessions open at the takeover may lack their user, alerts whose evidence spans it may be missed or doubled');
    }
  };

  /**
   * A standby whose store holds rows still waiting for their user (it stored them while it led, and the
   * session's lines went to the leader after the takeover) fills them from the leader's handover, each time the
   * handover moves.
   */
  let filledFrom: string | null = null;
  let filling = false;
  const fillFromLeader = async (): Promise<void> => {
    if (filling || !handover?.body.waiting()) return;
    filling = true;
    try {
      await fillOnce(handover);
    } catch (error) {
      log?.warn({ error: (error as Error).message }, "could not fill in rows from the leader's sessions");
    } finally {
      filling = false;
    }
  };
  const fillOnce = async (handover: { blob: SessionHandoverBlob; body: SessionHandoverBody }): Promise<void> => {
    const version = await handover.blob.version();
    if (version === null || version === filledFrom) return;
    const last = await handover.blob.read();
    if (!last) return;
    filledFrom = version;
    const rows = await handover.body.fill(last.body);
    if (rows > 0) log?.info({ rows, fromGeneration: last.generation }, "filled in the user of rows this instance stored while it led, from the leader's sessions");
  };

  /**
   * The handover writer of one generation's lead: one write at a time, each only when what is handed over moved.
   * Told before a batch's transaction, and in it after detection (`inTransaction`): then it writes only when
   * detection moved (an alert raised, evidence rows), which the write before the transaction could not carry.
   */
  const sessionWriter = (generation: number): ((inTransaction?: boolean) => Promise<void>) => {
    let handedOver = -1;
    let handedInTransaction = -1;
    let handingOver: Promise<void> = Promise.resolve();
    const handOver = async (inTransaction: boolean): Promise<void> => {
      const body = handover!.body;
      const version = body.version();
      const detection = body.inTransactionVersion?.() ?? -1;
      // Written even when the lease lapsed: this batch's intent was accepted, so it commits, and the next
      // leader reads the handover only after it settled; the blob refuses this write once a later one wrote.
      if (version === handedOver || (inTransaction && detection === handedInTransaction)) return;
      try {
        await handover!.blob.write(generation, body.encode(instanceId));
        handedOver = version;
        handedInTransaction = detection;
      } catch (error) {
        // The batch commits anyway: its intent was accepted, and attribution is not worth stopping the hub for.
        if (error instanceof FencedError) log?.info({ generation }, 'a later leader wrote the session handover: not overwriting it');
        else log?.warn({ error: (error as Error).message }, 'could not write the session handover: a takeover now may leave rows of open sessions without their user');
      }
    };
    return (inTransaction = false) => {
      if (!handover) return Promise.resolve();
      const write = () => handOver(inTransaction);
      handingOver = handingOver.then(write, write);
      return handingOver;
    };
  };

  const lead = (generation: number): Lead => ({
    ownerLevel: generation,
    handOverSessions: sessionWriter(generation),
    async takeOver(partitionIds, storedOf) {
      const committed = new Map<string, number | null>();
      for (const partitionId of partitionIds) await register.fence(partitionId, generation);
      for (const partitionId of partitionIds) {
        const { state, gaveUp } = await register.awaitSettled(partitionId, () => storedOf(partitionId), timing.inDoubtTimeoutMs, timing.heartbeatMs);
        if (gaveUp) {
          log?.warn(
            { partition: partitionId, instance: gaveUp.by, intent: gaveUp.sequenceNumber, committed: state.committed },
            'the instance killed while committing did not come back within leadership.inDoubtTimeoutMs: reading its last batch again (a copy may exist in its store, with the same source and position)',
          );
        }
        committed.set(partitionId, state.committed);
      }
      await adoptSessions(committed);
      return committed;
    },
    async beforeCommit(partitionId, lastSequenceNumber, committedSoFar) {
      if (lease.currentGeneration() !== generation) {
        const error = new FencedError(partitionId, generation, NaN);
        error.message = `the lease on hub ${target.hubName} lapsed (no heartbeat for leadership.leaseTimeMs): not committing`;
        void stepDown(error.message);
        throw error;
      }
      try {
        if (committedSoFar !== null) await register.resolveOwn(partitionId, committedSoFar);
        await register.beginCommit(partitionId, generation, lastSequenceNumber);
        openCommits++;
      } catch (error) {
        if (error instanceof FencedError) void stepDown(error.message);
        throw error;
      }
    },
    async afterCommit(partitionId, lastSequenceNumber) {
      try {
        await register.endCommit(partitionId, generation, lastSequenceNumber);
      } catch (error) {
        // The store has the batch; the intent stays open and is settled at the next commit, hand-over or restart.
        log?.warn({ partition: partitionId, error: (error as Error).message }, 'could not record the commit in the partition register');
      } finally {
        commitEnded();
      }
    },
    async commitFailed(partitionId) {
      await register
        .abortCommit(partitionId)
        .catch((error: unknown) => log?.warn({ partition: partitionId, error: (error as Error).message }, 'could not withdraw the intent'))
        .finally(commitEnded);
    },
  });

  const startLeading = (generation: number): void => {
    leads.leading++;
    status = { ...status, role: 'leader', generation, since: new Date().toISOString() };
    log?.info({ generation }, 'leading the hub: reading every partition');
    reading = options.read(lead(generation)).then((reader) => (current = reader), async (error: unknown) => {
      log?.error({ generation, error: (error as Error).message }, 'could not start reading as leader; standing by');
      reading = null;
      await lease.release();
      if (status.role === 'leader') leads.leading--;
      status = { ...status, role: 'standby', since: new Date().toISOString() };
      return null;
    });
  };

  /** Stops this leader's reader (its batches in flight end under the fence), keeping its last metrics for /healthz. */
  const stopReading = async (): Promise<void> => {
    const reader = await reading;
    reading = null;
    current = null;
    if (reader) {
      lastMetrics = reader.metrics();
      await reader.close();
    }
  };

  let steppingDown: Promise<void> | null = null;
  const stepDown = (reason: string): Promise<void> =>
    (steppingDown ??= (async () => {
      if (status.role !== 'leader') return;
      const at = new Date().toISOString();
      log?.error({ generation: status.generation, reason }, 'fenced: another instance leads this hub now; stopped writing and standing by');
      leads.leading--;
      status = { ...status, role: 'standby', since: at, lastFenced: { at, reason } };
      // Lets a standby take over at once when the lease merely lapsed; refused (and ignored) when it was taken.
      await lease.release();
      await stopReading();
    })().finally(() => (steppingDown = null)));

  /**
   * A clean hand-over to an instance with room: stop reading (the batches in flight commit under the fence),
   * settle any intent left open, then release the lease. The next leader starts after what this one stored.
   */
  const handOver = (share: number, live: readonly LiveMember[]): Promise<void> =>
    (steppingDown ??= (async () => {
      const at = new Date().toISOString();
      log?.info(
        { generation: status.generation, leads: leads.leading, share, live: live.map((member) => `${member.instanceId}:${member.leads}`) },
        'handing the hub over: this instance leads more than its fair share and another live instance has room',
      );
      leads.leading--;
      status = { ...status, role: 'standby', since: at, lastHandedOver: at };
      try {
        await stopReading();
        // The reader's close gives up on a slow batch after its timeout; its outcome must be known before
        // the intents are settled from the store, or a batch still committing would be read again.
        await noOpenCommits();
        await settleOwnIntents();
      } finally {
        await lease.release();
        leads.handOverDone();
      }
    })().finally(() => (steppingDown = null)));

  /** Who is alive; on a storage failure this instance alone (it then takes what is free, as before spreading). */
  const liveMembers = async (): Promise<LiveMember[]> => {
    try {
      await presence.announce(leads.leading);
      return await presence.live();
    } catch (error) {
      log?.warn({ error: (error as Error).message }, 'the fleet members could not be read (storage unreachable?): not spreading hubs');
      return [{ instanceId, leads: leads.leading }];
    }
  };

  const tick = async (): Promise<void> => {
    if (busy || closing || steppingDown) return;
    busy = true;
    try {
      const live = await liveMembers();
      const share = fairShare(leads.hubs, live.length);
      if (status.role === 'standby') {
        const generation = await lease.tryTakeOver((unledForMs) => mayTakeHub(leads.leading, share, unledForMs, timing.leaseTimeMs));
        if (generation !== null && !closing) startLeading(generation);
        // Not awaited: a slow store must not delay the next look at the lease.
        else if (!closing) void fillFromLeader();
      } else if (!(await lease.heartbeat())) {
        await stepDown('the lease was broken by a standby');
      } else {
        const others = live.filter((member) => member.instanceId !== instanceId).map((member) => member.leads);
        if (shouldHandOver(leads.leading, share, others) && leads.claimHandOver()) await handOver(share, live);
      }
    } catch (error) {
      log?.warn({ role: status.role, error: (error as Error).message }, 'the hub lease could not be checked (storage unreachable?)');
      if (status.role === 'leader' && lease.currentGeneration() === null) await stepDown('no heartbeat reached the storage account for leadership.leaseTimeMs');
    } finally {
      busy = false;
    }
  };
  await tick();
  const timer = setInterval(() => void tick(), timing.heartbeatMs);

  return {
    metrics: () => current?.metrics() ?? lastMetrics,
    leadership: () => ({ ...status }),
    async close() {
      closing = true;
      clearInterval(timer);
      await steppingDown;
      const reader = await reading;
      reading = null;
      current = null;
      if (reader) await reader.close();
      await lease.release();
      await presence.withdraw().catch(() => undefined);
      log?.info({ role: status.role }, 'left the hub fleet');
    },
  };
}

async function listRegisteredPartitions(container: ContainerClient, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/partition/` })) ids.push(blob.name.slice(prefix.length + '/partition/'.length));
  return ids;
}

/**
 * Whether a row of `source` at `position` is committed in some store: for this hub's partitions, at or before the
 * partition's committed sequence number (a record's position is `<sequence number>#<index>`); other sources' rows are.
 */
export function committedCheck(hubName: string, committed: ReadonlyMap<string, number | null>): (source: string, position: string) => boolean {
  const prefix = `eventhubs:${hubName}/`;
  return (source, position) => {
    if (!source.startsWith(prefix)) return true;
    const partitionId = source.slice(prefix.length);
    if (!committed.has(partitionId)) return true;
    const upTo = committed.get(partitionId);
    const sequenceNumber = Number.parseInt(position, 10);
    return upTo !== null && upTo !== undefined && Number.isSafeInteger(sequenceNumber) && sequenceNumber <= upTo;
  };
}
