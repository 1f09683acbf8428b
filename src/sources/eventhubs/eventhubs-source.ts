/**
 * The Event Hubs source of `auditduck run`.
 *
 * Input contract (what the pipeline can rely on):
 * - Per partition, batches arrive in sequence-number order, one at a time: the next batch of a
 *   partition is taken only after `onBatch` of the previous one has resolved (backpressure; the SDK
 *   prefetches at most a few batches). Partitions run concurrently.
 * - `batch.position` is the last sequence number of the batch; the pipeline commits it with the rows.
 *   On start and on every partition (re)start the source resumes strictly after the committed position,
 *   so a batch whose commit failed (onBatch threw) is read again, and a committed one never is.
 * - Events of one server are spread over partitions (no partition key): order across partitions is
 *   not kept, and lines of one session may arrive on different partitions.
 * - Bodies are parsed JSON when they are JSON, else bytes (Buffer) or a string (an AMQP value).
 * - A batch that starts past the event after the committed one means events expired unread (the hub's
 *   retention ran out while nobody read): `onEventsLost` says how many before the batch is handed over.
 * - A committed position beyond the partition's last event (the hub was deleted and created again) is
 *   dropped at start, and the partition is read from its earliest event.
 */
import {
  earliestEventPosition,
  EventHubConsumerClient,
  type EventHubConsumerClientOptions,
  type PartitionContext,
  type ReceivedEventData,
  type Subscription,
} from '@azure/event-hubs';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Logger } from 'pino';
import { redactConnectionString } from '../../redact/connection-string.js';
import { hostname } from 'node:os';
import type { HubEvent, PositionReader, SourceBatch } from '../source-batch.js';
import { parseOrigin } from '../../contracts/record-origin.js';
import { BlobCheckpointStore } from './balanced/blob-checkpoint-store.js';
import { FencedError, PartitionRegister } from './fleet/partition-register.js';
import { BalancedFence, type PartitionHold } from './balanced/partition-fence.js';
import { RoutedOrigins } from './routed-origins.js';
import { eventHubsSourceKey, fleetBlobPrefix } from './source-key.js';
import { parseEventHubsSourceConfig, resolveHubTarget, type EventHubsSourceConfig, type EventHubsSourceConfigInput } from './eventhubs-config.js';
import { startHubMember, type HubLeadership, type Lead } from './fleet/hub-member.js';
import { openBlobContainer } from './fleet/blob-container.js';
import type { InstanceLeads } from './fleet/fair-share.js';
import type { SessionHandoverBody } from './fleet/session-handover-blob.js';
import { PartitionMetricsBook, type PartitionMetrics } from './partition-metrics.js';
import { PositionBook, defaultStartPosition, parseSequencePosition } from './position-book.js';

/** A Prometheus-style gauge (prom-client's Gauge fits); the source sets lag per partition label. */
export interface LagGauge {
  set(labels: { partition: string }, value: number): void;
}

/** Where the source reports for /metrics; every series is labelled with the batch's `source`. */
export interface SourceMetricsSink {
  partitionLag?: LagGauge;
  partitionLagSeconds?: LagGauge;
  ownedPartitions?: { set(value: number): void };
  /** This instance no longer reads the partition: drop its series. */
  forgetPartition?(partition: string): void;
}

/** Events that expired from a partition before they were read. */
export interface EventsLost {
  /** The batch's `source` label, `eventhubs:<hub>/<partition>`. */
  source: string;
  partitionId: string;
  count: number;
  /** The last sequence number committed before the gap. */
  afterSequenceNumber: number;
  /** The first sequence number read after it. */
  resumedAt: number;
}

export interface EventHubsSourceOptions {
  config: EventHubsSourceConfigInput;
  /** The last committed position (a sequence number as text) of a sourceKey, or null. */
  readPosition: PositionReader;
  /** Stores the batch and its position in one transaction; the source waits for it. */
  onBatch(batch: SourceBatch<HubEvent>): Promise<void>;
  log?: Logger;
  /** Where lag and owned partitions go for /metrics. */
  metrics?: SourceMetricsSink;
  /** Told before the batch after a retention gap is handed over; a failure here is logged, not retried. */
  onEventsLost?(lost: EventsLost): Promise<void>;
  /** The longest `close()` waits for the SDK to release the partitions and close (default 15 s). */
  closeTimeoutMs?: number;
  /** For a namespace or blob account URL; default DefaultAzureCredential (managed identity in Azure). */
  credential?: TokenCredential;
  /**
   * Names this instance in the blob container (`checkpointStore: blob`): a restarted instance must come back
   * with the same id to settle the batch it was killed in. Default: the host name.
   */
  instanceId?: string;
  /** Shared by the hubs of one instance, so that the fleet spreads them (default: this hub alone). */
  leads?: InstanceLeads;
  /** `checkpointStore: blob`: what the pipeline knows of sessions, handed over between the leaders of the hub. */
  sessions?: SessionHandoverBody;
}

export interface EventHubsSubscription {
  readonly namespaceHost: string;
  readonly hubName: string;
  readonly consumerGroup: string;
  /** Per-partition counters since start (only partitions this instance has read). */
  metrics(): PartitionMetrics[];
  /** `checkpointStore: blob` only: whether this instance leads the hub or stands by. */
  leadership?(): HubLeadership;
  /** Finishes the batches in flight, releases the partitions and closes the client. */
  close(): Promise<void>;
}

/**
 * `checkpointStore: duckdb`: this instance reads every partition. `blob`: it joins the hub's fleet and
 * reads every partition only while it leads (fleet/hub-member.ts), with its generation as owner level.
 */
export async function startEventHubsSource(options: EventHubsSourceOptions): Promise<EventHubsSubscription> {
  const config = parseEventHubsSourceConfig(options.config);
  if (config.checkpointStore !== 'blob') return readHub(options, config, null);
  const { namespaceHost, hubName } = resolveHubTarget(config);
  const getCredential = credentialOnce(options.credential);
  if (config.ownership === 'balanced') {
    const container = await openBlobContainer(config, getCredential);
    const register = new PartitionRegister(container, fleetBlobPrefix({ namespaceHost, hubName, consumerGroup: config.consumerGroup }), options.instanceId ?? hostname());
    return readHub(options, config, null, { store: new BlobCheckpointStore(container), register });
  }
  const member = await startHubMember({
    container: await openBlobContainer(config, getCredential),
    target: { namespaceHost, hubName, consumerGroup: config.consumerGroup },
    instanceId: options.instanceId ?? hostname(),
    leadership: config.leadership,
    readPosition: options.readPosition,
    leads: options.leads,
    ...(options.sessions ? { sessions: options.sessions } : {}),
    log: options.log?.child({ component: 'eventhubs', namespace: namespaceHost, hub: hubName, consumerGroup: config.consumerGroup }),
    read: (lead) => readHub(options, config, lead),
  });
  return { namespaceHost, hubName, consumerGroup: config.consumerGroup, ...member };
}

/**
 * Reads every partition of the hub; under a `lead`, with its owner level and its fence around each commit.
 * With a `balanced` checkpoint store (a keyed hub), the partitions the SDK's balancing gives this instance,
 * checkpointed after each commit.
 */
async function readHub(
  options: EventHubsSourceOptions,
  config: EventHubsSourceConfig,
  lead: Lead | null,
  shared: { store: BlobCheckpointStore; register: PartitionRegister } | null = null,
): Promise<EventHubsSubscription> {
  const balanced = shared?.store ?? null;
  const { namespaceHost, hubName } = resolveHubTarget(config);
  const { consumerGroup } = config;
  const log = options.log?.child({ component: 'eventhubs', namespace: namespaceHost, hub: hubName, consumerGroup });
  const getCredential = credentialOnce(options.credential);

  const sourceKey = (partitionId: string): string => eventHubsSourceKey({ namespaceHost, hubName, consumerGroup }, partitionId);
  const sourceLabel = (partitionId: string): string => `eventhubs:${hubName}/${partitionId}`;
  const book = new PositionBook(defaultStartPosition(config.startPosition));
  const partitionMetrics = new PartitionMetricsBook(sourceLabel);
  const origins = new RoutedOrigins(options.readPosition);
  const storedSequenceNumber = async (partitionId: string): Promise<number | null> => parseSequencePosition(await options.readPosition(sourceKey(partitionId)));
  // Balanced: each partition open takes the partition's register, each commit is fenced by it.
  const fence = shared
    ? new BalancedFence(shared.register, storedSequenceNumber, { inDoubtTimeoutMs: config.balancing.inDoubtTimeoutMs, pollMs: Math.min(1_000, config.balancing.updateIntervalMs) }, log)
    : null;
  const holds = new Map<string, Promise<PartitionHold>>();
  const adopted = new WeakSet<PartitionHold>();
  const holdOf = (partitionId: string): Promise<PartitionHold> | null => {
    if (!fence) return null;
    let hold = holds.get(partitionId);
    if (!hold) {
      hold = fence.open(partitionId);
      hold.catch(() => undefined); // awaited by the partition's next batch, which reports the failure
      holds.set(partitionId, hold);
    }
    return hold;
  };

  /** Reads the committed positions; a leader also the fleet's (what earlier leaders stored in their stores). */
  const loadPositions = async (partitionIds: readonly string[]): Promise<void> => {
    const fleet = lead ? await lead.takeOver(partitionIds, storedSequenceNumber) : new Map<string, number | null>();
    for (const partitionId of partitionIds) {
      book.know(partitionId);
      const stored = await storedSequenceNumber(partitionId);
      const shared = fleet.get(partitionId) ?? null;
      if (stored !== null) book.commit(partitionId, stored);
      if (shared !== null) book.commit(partitionId, shared);
      partitionMetrics.recordResumePoint(partitionId, book.lastCommitted(partitionId));
    }
  };

  // No SDK checkpoint store (leader, duckdb): the SDK then claims every partition, and a leader's owner level
  // cuts off any reader of an earlier generation (the service detaches the lower epoch).
  const clientOptions: EventHubConsumerClientOptions = {
    retryOptions: config.retry,
    ...(balanced
      ? {
          // The owner id in the ownership blobs; a restarted instance (same id) releases its stale claims first.
          ...(options.instanceId ? { identifier: options.instanceId } : {}),
          loadBalancingOptions: {
            strategy: 'balanced',
            updateIntervalInMs: config.balancing.updateIntervalMs,
            partitionOwnershipExpirationIntervalInMs: config.balancing.ownershipExpirationMs,
          },
        }
      : {}),
  };
  const client = createClient(config, hubName, consumerGroup, clientOptions, getCredential, balanced);

  let knownPartitions: string[] = [];
  try {
    knownPartitions = await client.getPartitionIds();
    await loadPositions(knownPartitions);
    await readPartitionEnds(knownPartitions);
    await fence?.settleOwn();
    if (balanced && options.instanceId) {
      const released = await balanced.releaseOwnership(client.fullyQualifiedNamespace, client.eventHubName, consumerGroup, options.instanceId);
      if (released.length > 0) log?.info({ partitions: released }, 'released the partitions an earlier run of this instance still claimed');
    }
  } catch (error) {
    await client.close().catch(() => undefined);
    if (error instanceof FencedError) throw error;
    throw new Error(`cannot read the partitions of event hub ${hubName} on ${namespaceHost}: ${safeMessage(error)}`);
  }
  log?.info({ partitions: knownPartitions.length, checkpointStore: config.checkpointStore, ownerLevel: lead?.ownerLevel }, 'reading Event Hubs');

  let closing = false;
  const inFlight = new Set<Promise<void>>();
  const owned = new Set<string>();
  /** Enqueued time (ms) of the last committed event per partition: lag in seconds is measured from it. */
  const lastStoredEnqueuedAt = new Map<string, number>();

  const processEvents = async (received: ReceivedEventData[], context: PartitionContext): Promise<void> => {
    const { partitionId } = context;
    const lastEnqueued = context.lastEnqueuedEventProperties?.sequenceNumber;
    let hold: PartitionHold | null = null;
    try {
      hold = await holdOf(partitionId);
    } catch (error) {
      holds.delete(partitionId);
      throw new Error(`cannot take partition ${partitionId} in the partition register: ${safeMessage(error)}`);
    }
    // Balanced: what earlier owners of the partition stored of routed origins, once per opening.
    if (hold && !adopted.has(hold)) {
      await origins.adopt(hold.marks);
      adopted.add(hold);
    }
    // Balanced: the SDK resumes after the Blob checkpoint, which trails the stores by the batch a move or kill interrupted.
    const storedUpTo = hold ? maxOf(book.lastCommitted(partitionId), hold.committed) : null;
    const events = storedUpTo === null ? received : received.filter((event) => event.sequenceNumber > storedUpTo);
    if (events.length === 0 || closing) {
      reportLag(partitionMetrics.recordLastEnqueued(partitionId, lastEnqueued));
      if (balanced && received.length > 0 && !closing) await checkpoint(context, received.at(-1)!);
      return;
    }
    const last = events[events.length - 1]!;
    const admitted = await origins.admit(events.map((event) => hubEvent(event, partitionId)));
    if (admitted.duplicates > 0) log?.info({ partition: partitionId, duplicates: admitted.duplicates }, 'dropped routed records this store holds already');
    const batch: SourceBatch<HubEvent> = {
      sourceKey: sourceKey(partitionId),
      source: sourceLabel(partitionId),
      position: String(last.sequenceNumber),
      items: admitted.events,
      ...(admitted.marks.length > 0 ? { marks: admitted.marks } : {}),
      ...(lead ? { beforeCommit: () => lead.handOverSessions(), inTransaction: () => lead.handOverSessions(true) } : {}),
    };
    const work = reportGap(partitionId, events[0]!.sequenceNumber).then(async () => {
      await commitBatch(batch, partitionId, last, hold);
      origins.committed(admitted.marks);
      if (balanced) await checkpoint(context, last);
    });
    inFlight.add(work);
    try {
      await work;
    } catch (error) {
      if (hold && error instanceof FencedError) {
        // Another instance opened the partition since: it stores this batch; this one stops reading it.
        holds.delete(partitionId);
        log?.warn({ partition: partitionId, from: events[0]!.sequenceNumber, to: last.sequenceNumber }, 'partition moved to another instance: dropped the batch in flight (the new owner stores it)');
        throw new PartitionMovedError(partitionId);
      }
      // A plain Error: one carrying `retryable: true` would make the SDK skip the batch.
      throw new Error(`storing ${batch.source} up to ${batch.position} failed: ${safeMessage(error)}`);
    } finally {
      inFlight.delete(work);
    }
    lastStoredEnqueuedAt.set(partitionId, last.enqueuedTimeUtc.getTime());
    partitionMetrics.recordBatch(partitionId, events.length, last.sequenceNumber);
    reportLag(partitionMetrics.recordLastEnqueued(partitionId, lastEnqueued));
  };

  /** Within a partition sequence numbers are dense: a jump past the next one is events that expired unread. */
  const reportGap = async (partitionId: string, first: number): Promise<void> => {
    // Balanced: other instances read parts of the partition; a jump past this store's position is theirs.
    const committed = balanced ? null : book.lastCommitted(partitionId);
    if (committed === null || first <= committed + 1) return;
    const lost: EventsLost = { source: sourceLabel(partitionId), partitionId, count: first - committed - 1, afterSequenceNumber: committed, resumedAt: first };
    log?.error(lost, 'events expired from the hub before they were read');
    try {
      await options.onEventsLost?.(lost);
    } catch (error) {
      log?.error({ partition: partitionId, error: safeMessage(error) }, 'could not record the events lost');
    }
  };

  /**
   * Where each partition ends, so that its lag is known before any event arrives (a caught-up partition
   * receives none, and the SDK reports the end only with events). A stored position past the end means the
   * hub was created again, its sequence numbers restarted: that partition is read from its earliest event.
   */
  async function readPartitionEnds(partitionIds: readonly string[]): Promise<void> {
    for (const partitionId of partitionIds) {
      const properties = await client.getPartitionProperties(partitionId);
      partitionMetrics.recordLastEnqueued(partitionId, properties.lastEnqueuedSequenceNumber);
      const committed = book.lastCommitted(partitionId);
      if (committed === null || committed <= properties.lastEnqueuedSequenceNumber) continue;
      log?.error(
        { partition: partitionId, storedPosition: committed, lastEnqueuedSequenceNumber: properties.lastEnqueuedSequenceNumber },
        'the stored position is past the end of the partition (was the event hub deleted and created again?): reading it from its earliest event',
      );
      book.restart(partitionId, earliestEventPosition);
    }
  }

  const commitBatch = async (batch: SourceBatch<HubEvent>, partitionId: string, last: ReceivedEventData, hold: PartitionHold | null): Promise<void> => {
    if (fence && hold) {
      const marks = Object.fromEntries((batch.marks ?? []).map((mark) => [mark.sourceKey, mark.position]));
      await fence.commit(partitionId, hold, last.sequenceNumber, book.lastCommitted(partitionId), () => options.onBatch(batch), marks);
      book.commit(partitionId, last.sequenceNumber);
      return;
    }
    // A leader says what it is about to commit, and is refused when another instance leads now.
    await lead?.beforeCommit(partitionId, last.sequenceNumber, book.lastCommitted(partitionId));
    try {
      await options.onBatch(batch);
    } catch (error) {
      await lead?.commitFailed(partitionId);
      throw error;
    }
    book.commit(partitionId, last.sequenceNumber);
    await lead?.afterCommit(partitionId, last.sequenceNumber);
  };

  /** Balanced: the next owner of the partition resumes after this; stored already, so a failure only costs a re-read. */
  const checkpoint = async (context: PartitionContext, last: ReceivedEventData): Promise<void> => {
    try {
      await context.updateCheckpoint(last);
    } catch (error) {
      log?.warn({ partition: context.partitionId, error: safeMessage(error) }, 'could not write the checkpoint (the batch is stored; another owner may read it again)');
    }
  };

  const reportLag = (entry: PartitionMetrics): void => {
    if (entry.lag === null) return;
    const partition = sourceLabel(entry.partitionId);
    options.metrics?.partitionLag?.set({ partition }, entry.lag);
    const storedAt = lastStoredEnqueuedAt.get(entry.partitionId);
    const seconds = entry.lag === 0 || storedAt === undefined ? 0 : Math.max(0, (Date.now() - storedAt) / 1000);
    options.metrics?.partitionLagSeconds?.set({ partition }, seconds);
  };

  for (const entry of partitionMetrics.snapshot()) reportLag(entry);

  const subscription: Subscription = client.subscribe(
    {
      processInitialize: async (context) => {
        if (!knownPartitions.includes(context.partitionId)) knownPartitions = [...knownPartitions, context.partitionId];
        owned.add(context.partitionId);
        holds.delete(context.partitionId);
        holdOf(context.partitionId);
        options.metrics?.ownedPartitions?.set(owned.size);
        log?.info({ partition: context.partitionId, after: book.lastCommitted(context.partitionId) }, 'partition started');
      },
      processEvents,
      processError: async (error, context) => {
        if (error instanceof PartitionMovedError) return; // logged where it happened
        log?.warn({ partition: context.partitionId || undefined, error: safeMessage(error) }, 'Event Hubs error (the SDK retries)');
      },
      processClose: async (reason, context) => {
        owned.delete(context.partitionId);
        holds.delete(context.partitionId);
        options.metrics?.ownedPartitions?.set(owned.size);
        options.metrics?.forgetPartition?.(sourceLabel(context.partitionId));
        log?.info({ partition: context.partitionId, reason }, 'partition stopped');
      },
    },
    {
      // A live object: the SDK looks a partition up here each time it (re)starts it.
      startPosition: book.positions,
      ...(lead ? { ownerLevel: lead.ownerLevel } : {}),
      maxBatchSize: config.maxBatchSize,
      maxWaitTimeInSeconds: config.maxWaitTimeInSeconds,
      trackLastEnqueuedEventProperties: config.trackLastEnqueuedEventProperties,
    },
  );

  let closed: Promise<void> | undefined;
  return {
    namespaceHost,
    hubName,
    consumerGroup,
    metrics: () => partitionMetrics.snapshot(),
    close() {
      closed ??= (async () => {
        closing = true;
        fence?.close();
        // Finish (commit and checkpoint) what is in flight before giving the partitions away.
        // The SDK can wait forever when the connection dies during shutdown; do not hang the process.
        // One budget for the whole close: Docker and Kubernetes kill after 30 s.
        const deadline = Date.now() + (options.closeTimeoutMs ?? defaultCloseTimeoutMs);
        await settleWithin(Promise.allSettled([...inFlight]), deadline - Date.now(), () => log?.warn('the batch in flight did not finish in time'));
        await settleWithin(subscription.close(), deadline - Date.now(), () => log?.warn('releasing the partitions timed out'));
        await settleWithin(client.close(), deadline - Date.now(), () => log?.warn('closing the Event Hubs client timed out'));
        log?.info('Event Hubs source closed');
      })();
      return closed;
    },
  };
}

function createClient(
  config: EventHubsSourceConfig,
  hubName: string,
  consumerGroup: string,
  clientOptions: EventHubConsumerClientOptions,
  credential: () => TokenCredential,
  store: BlobCheckpointStore | null,
): EventHubConsumerClient {
  if (config.connectionString) {
    // The SDK refuses a hub name next to a connection string that already names one.
    const named = /(?:^|;)\s*EntityPath\s*=/i.test(config.connectionString);
    if (store) {
      return named
        ? new EventHubConsumerClient(consumerGroup, config.connectionString, store, clientOptions)
        : new EventHubConsumerClient(consumerGroup, config.connectionString, hubName, store, clientOptions);
    }
    return named
      ? new EventHubConsumerClient(consumerGroup, config.connectionString, clientOptions)
      : new EventHubConsumerClient(consumerGroup, config.connectionString, hubName, clientOptions);
  }
  const namespace = config.namespace!.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  return store
    ? new EventHubConsumerClient(consumerGroup, namespace, hubName, credential(), store, clientOptions)
    : new EventHubConsumerClient(consumerGroup, namespace, hubName, credential(), clientOptions);
}

/** The event as the pipeline sees it; a routed one with its origin (contracts/record-origin.ts). */
function hubEvent(event: ReceivedEventData, partitionId: string): HubEvent {
  const origin = parseOrigin(event.properties);
  return {
    body: event.body,
    partitionId,
    sequenceNumber: event.sequenceNumber,
    enqueuedTimeUtc: event.enqueuedTimeUtc,
    ...(origin ? { origin, ...(event.partitionKey ? { partitionKey: event.partitionKey } : {}) } : {}),
  };
}

/** Balanced: the partition was opened by another instance; stops this instance's reading of it (not retryable). */
class PartitionMovedError extends Error {
  constructor(readonly partitionId: string) {
    super(`partition ${partitionId} moved to another instance`);
    this.name = 'PartitionMovedError';
  }
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** DefaultAzureCredential is built on first use only: a connection string needs none. */
function credentialOnce(given: TokenCredential | undefined): () => TokenCredential {
  let credential = given;
  return () => (credential ??= new DefaultAzureCredential());
}

const defaultCloseTimeoutMs = 15_000;

/** Waits for `work` (ignoring its failure) or `ms`, whichever comes first. */
async function settleWithin(work: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, ms))));
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), timedOut]);
  if (outcome === 'done') clearTimeout(timer);
  clearTimeout(timer);
  if (outcome === 'timeout') onTimeout();
}

/** An error's message with any connection-string secret masked. */
function safeMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactConnectionString(text);
}
