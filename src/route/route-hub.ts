/**
 * `auditduck route`: reads a hub with the SDK's balanced load balancing (any number of instances share its
 * partitions through the Blob checkpoint container; an instance keeps no state of its own) and republishes
 * each record into the keyed hub with the record's server as partition key (route-records.ts), so that the
 * keyed hub's partitions each hold whole servers and `run` instances sharing it each see whole sessions.
 *
 * At least once: a partition's checkpoint moves only after every record of its batch was acknowledged by the
 * keyed hub. A route instance killed in between leaves the batch to be republished by the next owner;
 * `run` drops an origin it already stored (sources/eventhubs/routed-origins.ts).
 * Ordering: per source partition, batches go one after the other, and one server's records of a batch in
 * one send after the other, so that the keyed hub holds each (source partition, server) in origin order —
 * a duplicate always follows its original, which is what lets `run` keep one mark per pair.
 */
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition, latestEventPosition, type EventPosition, type PartitionContext, type ReceivedEventData, type Subscription } from '@azure/event-hubs';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { originPosition, originSource } from '../contracts/record-origin.js';
import { redactConnectionString } from '../redact/connection-string.js';
import { BlobCheckpointStore } from '../sources/eventhubs/balanced/blob-checkpoint-store.js';
import { openBlobContainer } from '../sources/eventhubs/fleet/blob-container.js';
import { hubNameOf, namespaceOf, type RouteConfig, type RouteHubFrom, type RouteHubTo } from './route-config.js';
import { routeEvent, type RoutedEvent } from './route-records.js';

export interface RoutePartitionStats {
  partitionId: string;
  /** Source events read and republished (their records) since this instance started. */
  events: number;
  records: number;
  lastSequenceNumber: number | null;
  /** Events behind the partition's last enqueued one, as of the last batch; null before one. */
  lag: number | null;
}

export interface RouteStats {
  instanceId: string;
  from: string;
  to: string;
  records: number;
  events: number;
  /** The partitions this instance reads now. */
  partitions: RoutePartitionStats[];
}

export interface RunningRoute {
  stats(): RouteStats;
  close(): Promise<void>;
}

export interface RouteOptions {
  config: RouteConfig;
  log: Logger;
  credential?: TokenCredential;
}

export async function startRoute({ config, log, credential: given }: RouteOptions): Promise<RunningRoute> {
  let credential = given;
  const getCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  const fromHub = hubNameOf(config.from)!;
  const toHub = hubNameOf(config.to)!;
  const instanceId = config.instanceId ?? `${hostname()}:${process.pid}`;
  const container = await openBlobContainer(config.from, getCredential);
  const checkpointStore = new BlobCheckpointStore(container);
  const consumer = createConsumer(config.from, fromHub, checkpointStore, getCredential, instanceId);
  // A stable id (configured) may find its killed predecessor's claims: released, they are claimed again at once.
  if (config.instanceId) await checkpointStore.releaseOwnership(consumer.fullyQualifiedNamespace, consumer.eventHubName, config.from.consumerGroup, instanceId);
  const producer = createProducer(config.to, toHub, getCredential);

  const partitions = new Map<string, RoutePartitionStats>();
  let totals = { records: 0, events: 0 };
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const processEvents = async (events: ReceivedEventData[], context: PartitionContext): Promise<void> => {
    const stats = partitions.get(context.partitionId);
    if (stats && context.lastEnqueuedEventProperties?.sequenceNumber !== undefined) {
      const last = events.at(-1)?.sequenceNumber ?? stats.lastSequenceNumber ?? -1;
      stats.lag = Math.max(0, context.lastEnqueuedEventProperties.sequenceNumber - last);
    }
    if (events.length === 0 || closing) return;
    const routed = events.flatMap((event) => routeEvent({ body: event.body, sequenceNumber: event.sequenceNumber }, { hub: fromHub, partitionId: context.partitionId }));
    const work = publishAll(producer, routed).then(() => context.updateCheckpoint(events.at(-1)!));
    inFlight.add(work);
    try {
      await work;
    } catch (error) {
      // A plain Error: the SDK closes the partition and reads it again from its checkpoint.
      throw new Error(`routing ${fromHub}/${context.partitionId} up to ${events.at(-1)!.sequenceNumber} failed (republished again from the checkpoint): ${safeMessage(error)}`);
    } finally {
      inFlight.delete(work);
    }
    totals = { records: totals.records + routed.length, events: totals.events + events.length };
    if (stats) {
      stats.events += events.length;
      stats.records += routed.length;
      stats.lastSequenceNumber = events.at(-1)!.sequenceNumber;
    }
  };

  const subscription: Subscription = consumer.subscribe(
    {
      processInitialize: async (context) => {
        partitions.set(context.partitionId, { partitionId: context.partitionId, events: 0, records: 0, lastSequenceNumber: null, lag: null });
        log.info({ partition: context.partitionId }, 'partition claimed');
      },
      processEvents,
      processError: async (error, context) => {
        log.warn({ partition: context.partitionId || undefined, error: safeMessage(error) }, 'Event Hubs error (the SDK retries)');
      },
      processClose: async (reason, context) => {
        partitions.delete(context.partitionId);
        log.info({ partition: context.partitionId, reason }, 'partition released');
      },
    },
    {
      startPosition: startPositionOf(config.from.startPosition),
      maxBatchSize: config.from.maxBatchSize,
      maxWaitTimeInSeconds: config.from.maxWaitTimeInSeconds,
      trackLastEnqueuedEventProperties: true,
    },
  );
  log.info({ instanceId, from: fromHub, to: toHub }, 'routing');

  const stats = (): RouteStats => ({
    instanceId,
    from: `${namespaceOf(config.from)}/${fromHub}`,
    to: `${namespaceOf(config.to)}/${toHub}`,
    ...totals,
    partitions: [...partitions.values()].sort((a, b) => Number(a.partitionId) - Number(b.partitionId)).map((p) => ({ ...p })),
  });

  let reported = { ...totals };
  const reporter = setInterval(() => {
    const now = stats();
    const lag = now.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0);
    log.info(
      { recordsRouted: now.records - reported.records, eventsRead: now.events - reported.events, lag, partitions: now.partitions.map((p) => p.partitionId) },
      `routed ${now.records - reported.records} records in the last interval; ${lag} events behind on ${now.partitions.length} partitions`,
    );
    reported = { records: now.records, events: now.events };
  }, config.logIntervalMs);
  reporter.unref();

  let closed: Promise<void> | undefined;
  return {
    stats,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(reporter);
        await Promise.allSettled([...inFlight]);
        await subscription.close().catch((error: unknown) => log.warn({ error: safeMessage(error) }, 'releasing the partitions failed'));
        await consumer.close().catch(() => undefined);
        await producer.close().catch(() => undefined);
        log.info('route closed');
      })();
      return closed;
    },
  };
}

/**
 * Publishes the routed events: one server's events in order, one batch after the other (the ordering `run`'s
 * marks need), different servers at once.
 */
async function publishAll(producer: EventHubProducerClient, routed: readonly RoutedEvent[]): Promise<void> {
  const byKey = new Map<string, RoutedEvent[]>();
  for (const event of routed) {
    const list = byKey.get(event.partitionKey);
    if (list) list.push(event);
    else byKey.set(event.partitionKey, [event]);
  }
  await Promise.all([...byKey].map(([partitionKey, events]) => publishKeyed(producer, partitionKey, events)));
}

async function publishKeyed(producer: EventHubProducerClient, partitionKey: string, events: readonly RoutedEvent[]): Promise<void> {
  let batch = await producer.createBatch({ partitionKey });
  for (const event of events) {
    const data = { body: event.body, properties: event.properties };
    if (batch.tryAdd(data)) continue;
    if (batch.count > 0) {
      await producer.sendBatch(batch);
      batch = await producer.createBatch({ partitionKey });
      if (batch.tryAdd(data)) continue;
    }
    throw new Error(
      `the record ${originSource(event.origin)} ${originPosition(event.origin)} does not fit in one event of the keyed hub (${batch.maxSizeInBytes} bytes at most)`,
    );
  }
  if (batch.count > 0) await producer.sendBatch(batch);
}

function createConsumer(from: RouteHubFrom, hubName: string, store: BlobCheckpointStore, credential: () => TokenCredential, instanceId: string): EventHubConsumerClient {
  const options = {
    // The owner id in the ownership blobs: which instance reads which partition.
    identifier: instanceId,
    retryOptions: from.retry,
    loadBalancingOptions: {
      strategy: 'balanced' as const,
      updateIntervalInMs: from.balancing.updateIntervalMs,
      partitionOwnershipExpirationIntervalInMs: from.balancing.ownershipExpirationMs,
    },
  };
  if (from.connectionString) {
    return /(?:^|;)\s*EntityPath\s*=/i.test(from.connectionString)
      ? new EventHubConsumerClient(from.consumerGroup, from.connectionString, store, options)
      : new EventHubConsumerClient(from.consumerGroup, from.connectionString, hubName, store, options);
  }
  return new EventHubConsumerClient(from.consumerGroup, bareNamespace(from.namespace!), hubName, credential(), store, options);
}

function createProducer(to: RouteHubTo, hubName: string, credential: () => TokenCredential): EventHubProducerClient {
  const options = { retryOptions: to.retry };
  if (to.connectionString) {
    return /(?:^|;)\s*EntityPath\s*=/i.test(to.connectionString)
      ? new EventHubProducerClient(to.connectionString, options)
      : new EventHubProducerClient(to.connectionString, hubName, options);
  }
  return new EventHubProducerClient(bareNamespace(to.namespace!), hubName, credential(), options);
}

function bareNamespace(namespace: string): string {
  return namespace.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

function startPositionOf(setting: string): EventPosition {
  if (setting === 'earliest') return earliestEventPosition;
  if (setting === 'latest') return latestEventPosition;
  return { enqueuedOn: new Date(setting) };
}

function safeMessage(error: unknown): string {
  return redactConnectionString(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}
