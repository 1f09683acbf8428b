/**
 * The sources `auditduck run` can read, in order of precedence: the first one the configuration selects runs.
 * A new source is a folder in src/sources yielding `SourceBatch`es and one line here.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { eventHubsOf, type RunConfig } from '../config/run-config.js';
import { startDemoSource } from '../sources/demo/demo-hub.js';
import type { EventsLost, HubLeadership, PartitionMetrics, SessionHandoverBody } from '../sources/eventhubs/index.js';
import type { HubEvent, PositionReader, SourceBatch } from '../sources/source-batch.js';
import type { HealthBook } from '../web/health-book.js';
import type { PipelineMetrics } from '../web/metrics.js';

export interface RunSource {
  batches: AsyncIterable<SourceBatch<HubEvent>>;
  /** Resolves when a finite source has delivered everything (the demo stream); never for a hub. */
  done: Promise<void>;
  /** Finishes the batches in flight (the driver commits them), releases what the source holds, ends `batches`. */
  close(): Promise<void>;
  /** Per-partition progress, for the periodic progress line. */
  partitions?(): PartitionMetrics[];
  /** Per hub read with checkpointStore blob: whether this instance leads it or stands by. */
  hubs?(): HubLeadership[];
}

export interface RunSourceContext {
  config: RunConfig;
  /** The last committed position of a stream, read in turn with the pipeline's commits. */
  readPosition: PositionReader;
  /** What the pipeline knows of sessions, handed over between the leaders of a hub (checkpointStore blob). */
  sessions?: SessionHandoverBody;
  metrics: PipelineMetrics;
  health: HealthBook;
  log: Logger;
  onEventsLost(lost: EventsLost): Promise<void>;
}

interface RunSourceKind {
  selected(config: RunConfig): boolean;
  /** Whether the source hands what the pipeline knows to a hub's next leader (`sessions`): detection then keeps its context for it. */
  handsOver: boolean;
  open(context: RunSourceContext): Promise<RunSource>;
}

export const RUN_SOURCES = {
  eventhubs: { selected: (config) => config.eventHubs !== undefined, handsOver: true, open: openEventHubs },
  demo: { selected: () => true, handsOver: false, open: openDemo },
} satisfies Record<string, RunSourceKind>;

export type RunSourceName = keyof typeof RUN_SOURCES;

export function selectRunSource(config: RunConfig): RunSourceName {
  const name = (Object.keys(RUN_SOURCES) as RunSourceName[]).find((n) => RUN_SOURCES[n].selected(config));
  if (name === undefined) throw new Error('no source selected by the configuration');
  return name;
}

async function openEventHubs({ config, readPosition, sessions, metrics, health, log, onEventsLost }: RunSourceContext): Promise<RunSource> {
  const { openEventHubsBatches } = await import('../sources/eventhubs/index.js');
  const ownedPerHub = new Map<number, number>();
  const hubs = await openEventHubsBatches(
    eventHubsOf(config).map((hub, index) => ({
      config: hub,
      readPosition,
      ...(sessions ? { sessions } : {}),
      onEventsLost,
      log,
      instanceId: config.instanceId ?? `${hostname()}:${resolve(config.db)}`,
      metrics: {
        partitionLag: metrics.partitionLag,
        partitionLagSeconds: metrics.partitionLagSeconds,
        // The gauge counts the partitions of every hub this instance reads.
        ownedPartitions: { set: (owned: number) => metrics.ownedPartitions.set([...ownedPerHub.set(index, owned).values()].reduce((sum, n) => sum + n, 0)) },
        forgetPartition: (partition: string) => {
          metrics.forgetPartition(partition);
          health.released(partition);
        },
      },
      // Half the shutdown time: the rest is for the alert in flight, the HTTP servers and the store.
      closeTimeoutMs: Math.floor(config.operations.shutdownTimeoutMs / 2),
    })),
  );
  return {
    batches: hubs.batches,
    done: new Promise<void>(() => undefined),
    close: () => hubs.close(),
    partitions: () => hubs.subscriptions.flatMap((subscription) => subscription.metrics()),
    hubs: () => hubs.subscriptions.flatMap((subscription) => (subscription.leadership ? [subscription.leadership()] : [])),
  };
}

async function openDemo({ readPosition, metrics, log }: RunSourceContext): Promise<RunSource> {
  log.warn(
    'no Event Hub configured: running the DEMO stream from samples/ (a real PostgreSQL + pgaudit capture). ' +
      'To read your servers, set AUDITDUCK_EVENTHUB_CONNECTION_STRING (or AUDITDUCK_EVENTHUB_NAMESPACE) and AUDITDUCK_EVENTHUB_NAME; see docs/eventhubs.md',
  );
  const demo = await startDemoSource({ readPosition });
  demo.done.then(
    () => log.info({ records: metrics.totals.records }, 'demo stream delivered all samples; still serving (Ctrl-C to stop)'),
    (error: unknown) => log.error({ err: error }, 'the demo stream failed'),
  );
  return demo;
}
