/**
 * The configuration of the Event Hubs source. The field names are the ones `src/config/run-config.ts`
 * fills from AUDITDUCK_EVENTHUB_* and AUDITDUCK_BLOB_* (env wins over the file); this schema adds the
 * tuning knobs with defaults, so the parsed value always carries every setting the source uses.
 */
import { z } from 'zod';

export const START_POSITIONS = ['earliest', 'latest'] as const;

const startPosition = z
  .string()
  .refine(
    (value) => (START_POSITIONS as readonly string[]).includes(value) || !Number.isNaN(Date.parse(value)),
    'earliest, latest, or an ISO 8601 time',
  )
  .default('earliest')
  .describe('where partitions never seen before start (a seen partition always resumes after its stored position)');

export const CHECKPOINT_STORE_KINDS = ['duckdb', 'blob'] as const;
export const OWNERSHIP_KINDS = ['leader', 'balanced'] as const;

export const eventHubsSourceConfigSchema = z
  .strictObject({
    connectionString: z.string().optional().describe('Event Hubs connection string; else namespace + the Azure credential chain'),
    namespace: z.string().optional().describe('fully qualified namespace, e.g. myns.servicebus.windows.net (DefaultAzureCredential)'),
    hubName: z.string().optional().describe('the event hub; may come from EntityPath= in the connection string'),
    consumerGroup: z.string().default('$default'),
    startPosition,
    maxBatchSize: z.number().int().positive().default(500).describe('events handed to one onBatch at most'),
    maxWaitTimeInSeconds: z.number().positive().default(1).describe('how long a partition waits to fill a batch'),
    checkpointStore: z
      .enum(CHECKPOINT_STORE_KINDS)
      .default('duckdb')
      .describe('duckdb: one instance reads the hub; blob: several instances elect one leader per hub through an Azure Blob lease, the others stand by'),
    blobConnectionString: z.string().optional().describe('Storage connection string for the blob checkpoint store'),
    blobAccountUrl: z.string().optional().describe('https://<account>.blob.core.windows.net, with the Azure credential chain'),
    blobContainer: z.string().default('auditduck-checkpoints'),
    ownership: z
      .enum(OWNERSHIP_KINDS)
      .default('leader')
      .describe(
        'blob only. leader: one instance reads every partition of the hub (a hub fed by diagnostic settings: one server spread over all partitions). balanced: the SDK spreads the partitions over the instances (only a keyed hub written by `auditduck route`, where a partition holds whole servers)',
      ),
    balancing: z
      .strictObject({
        updateIntervalMs: z.number().int().positive().default(10_000).describe('how often an instance claims and renews partitions'),
        ownershipExpirationMs: z.number().int().positive().default(60_000).describe('after how long a silent instance loses its partitions'),
        inDoubtTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(300_000)
          .describe('how long a new owner of a partition waits for an instance killed while committing to come back and say whether its last batch committed'),
      })
      .prefault({})
      .describe('ownership balanced only: the SDK\'s load balancing'),
    trackLastEnqueuedEventProperties: z.boolean().default(true).describe('ask the service for the partition end, to report lag'),
    leadership: z
      .strictObject({
        leaseTimeMs: z
          .number()
          .int()
          .min(1_000)
          .default(30_000)
          .describe('how long a leader may stay silent before a standby takes the hub over (and how long a cut-off leader keeps writing at most)'),
        heartbeatMs: z.number().int().positive().default(5_000).describe('how often the leader renews its lease; under a third of leaseTimeMs'),
        inDoubtTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(300_000)
          .describe('how long a new leader waits for a killed leader to come back and say whether its last batch committed'),
      })
      .prefault({})
      .describe('blob only: one instance leads the hub, the others stand by (docs/fleet.md)'),
    retry: z
      .strictObject({
        maxRetries: z.number().int().min(0).default(3),
        retryDelayInMs: z.number().int().positive().default(1_000),
        maxRetryDelayInMs: z.number().int().positive().default(30_000),
        timeoutInMs: z.number().int().positive().default(60_000),
      })
      .prefault({})
      .describe('how the SDK retries lost connections and failed operations'),
  })
  .refine((c) => Boolean(c.connectionString) !== Boolean(c.namespace), 'give either connectionString or namespace (not both)')
  .refine(
    (c) => c.checkpointStore !== 'blob' || Boolean(c.blobConnectionString) !== Boolean(c.blobAccountUrl),
    'checkpointStore blob needs either blobConnectionString or blobAccountUrl',
  )
  .refine((c) => c.ownership !== 'balanced' || c.checkpointStore === 'blob', {
    message: 'ownership balanced shares the partitions through the Blob checkpoint container: set checkpointStore blob',
    path: ['ownership'],
  })
  .refine((c) => c.leadership.heartbeatMs * 3 <= c.leadership.leaseTimeMs, {
    // Two missed heartbeats must not yet hand the hub over: a slow network would make leaders flap.
    message: 'leadership.heartbeatMs must be at most a third of leadership.leaseTimeMs',
    path: ['leadership', 'heartbeatMs'],
  })
  .refine((c) => !hubNamesDiffer(c.hubName, c.connectionString), {
    // The SDK reads EntityPath's hub, while positions would be stored under hubName's.
    message: 'hubName (AUDITDUCK_EVENTHUB_NAME) names another hub than EntityPath= in the connection string: drop one, or make them the same',
    path: ['hubName'],
  });

function hubNamesDiffer(hubName: string | undefined, connectionString: string | undefined): boolean {
  const entityPath = connectionString ? connectionStringParts(connectionString).entityPath : undefined;
  return hubName !== undefined && entityPath !== undefined && hubName.toLowerCase() !== entityPath.toLowerCase();
}

export type EventHubsSourceConfig = z.output<typeof eventHubsSourceConfigSchema>;
export type EventHubsSourceConfigInput = z.input<typeof eventHubsSourceConfigSchema>;

/** Parses and validates; the error names the fields and never echoes a value (they may be secrets). */
export function parseEventHubsSourceConfig(input: unknown): EventHubsSourceConfig {
  const parsed = eventHubsSourceConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  eventHubs.${issue.path.join('.') || '(object)'}: ${issue.message}`);
  throw new Error(`the Event Hubs configuration is not valid:\n${problems.join('\n')}`);
}

/** Where the source reads: the namespace host (without port) and the hub. */
export interface HubTarget {
  namespaceHost: string;
  hubName: string;
}

export function resolveHubTarget(config: EventHubsSourceConfig): HubTarget {
  const fromString = config.connectionString ? connectionStringParts(config.connectionString) : undefined;
  const hubName = config.hubName ?? fromString?.entityPath;
  if (!hubName) throw new Error('name the event hub: set eventHubs.hubName (AUDITDUCK_EVENTHUB_NAME) or EntityPath= in the connection string');
  const namespace = fromString?.endpoint ?? config.namespace ?? '';
  const namespaceHost = namespace.replace(/^[a-z]+:\/\//i, '').replace(/[:/].*$/, '');
  if (!namespaceHost) throw new Error('the Event Hubs connection string has no Endpoint=sb://<namespace>');
  return { namespaceHost, hubName };
}

/** The non-secret parts of an Event Hubs connection string. */
export function connectionStringParts(connectionString: string): { endpoint?: string; entityPath?: string } {
  const pairs = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return { endpoint: pairs.get('endpoint'), entityPath: pairs.get('entitypath') };
}
