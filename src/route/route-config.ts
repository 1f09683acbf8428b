/**
 * The configuration of `auditduck route`: the hub it reads (`from`, the settings and environment names of
 * `eventHubs`: AUDITDUCK_EVENTHUB_*, AUDITDUCK_CONSUMER_GROUP, AUDITDUCK_START_POSITION, AUDITDUCK_BLOB_*), the
 * keyed hub it writes (`to`, AUDITDUCK_ROUTE_TO_*), and the SDK's balanced load balancing over the Blob
 * checkpoint container. Validation errors name fields, never values (connection strings are secrets).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { connectionStringParts } from '../sources/eventhubs/eventhubs-config.js';

const hubAddress = {
  connectionString: z.string().optional().describe('Event Hubs connection string; else namespace + the Azure credential chain'),
  namespace: z.string().optional().describe('fully qualified namespace, e.g. myns.servicebus.windows.net (DefaultAzureCredential)'),
  hubName: z.string().optional().describe('the event hub; may come from EntityPath= in the connection string'),
};

const retry = z
  .strictObject({
    maxRetries: z.number().int().min(0).default(3),
    retryDelayInMs: z.number().int().positive().default(1_000),
    maxRetryDelayInMs: z.number().int().positive().default(30_000),
    timeoutInMs: z.number().int().positive().default(60_000),
  })
  .prefault({});

const fromSchema = z
  .strictObject({
    ...hubAddress,
    consumerGroup: z.string().default('$default'),
    startPosition: z
      .string()
      .refine((v) => v === 'earliest' || v === 'latest' || !Number.isNaN(Date.parse(v)), 'earliest, latest, or an ISO 8601 time')
      .default('earliest')
      .describe('where a partition without a checkpoint starts'),
    maxBatchSize: z.number().int().positive().default(500),
    maxWaitTimeInSeconds: z.number().positive().default(1),
    blobConnectionString: z.string().optional().describe('Storage connection string of the checkpoint container'),
    blobAccountUrl: z.string().optional().describe('https://<account>.blob.core.windows.net, with the Azure credential chain'),
    blobContainer: z.string().default('auditduck-checkpoints'),
    balancing: z
      .strictObject({
        updateIntervalMs: z.number().int().positive().default(10_000).describe('how often an instance claims and renews partitions'),
        ownershipExpirationMs: z.number().int().positive().default(60_000).describe('after how long a silent instance loses its partitions'),
      })
      .prefault({}),
    retry,
  })
  .refine((c) => Boolean(c.connectionString) !== Boolean(c.namespace), 'give either connectionString or namespace (not both)')
  .refine((c) => Boolean(c.blobConnectionString) !== Boolean(c.blobAccountUrl), 'give either blobConnectionString or blobAccountUrl (the checkpoint container)');

const toSchema = z
  .strictObject({ ...hubAddress, retry })
  .refine((c) => Boolean(c.connectionString) !== Boolean(c.namespace), 'give either connectionString or namespace (not both)');

export const routeConfigSchema = z.strictObject({
  // Missing, each says which of its settings it needs.
  from: fromSchema.prefault({}),
  to: toSchema.prefault({}),
  /** Names this instance's claims in the checkpoint container (default: host name and process id). */
  instanceId: z.string().optional(),
  logIntervalMs: z.number().int().positive().default(60_000).describe('how often a line with records routed and lag is logged'),
  http: z
    .strictObject({ port: z.number().int().min(0).max(65_535).default(0).describe('/healthz; 0 = off'), host: z.string().default('127.0.0.1') })
    .prefault({}),
});

export type RouteConfig = z.output<typeof routeConfigSchema>;
export type RouteHubFrom = RouteConfig['from'];
export type RouteHubTo = RouteConfig['to'];

/** Environment names → config paths; the `eventHubs` names mean the hub route reads. */
const ENV: Record<string, (c: Record<string, any>, v: string) => void> = {
  AUDITDUCK_INSTANCE_ID: (c, v) => (c.instanceId = v),
  AUDITDUCK_EVENTHUB_CONNECTION_STRING: (c, v) => (from(c).connectionString = v),
  AUDITDUCK_EVENTHUB_NAMESPACE: (c, v) => (from(c).namespace = v),
  AUDITDUCK_EVENTHUB_NAME: (c, v) => (from(c).hubName = v),
  AUDITDUCK_CONSUMER_GROUP: (c, v) => (from(c).consumerGroup = v),
  AUDITDUCK_START_POSITION: (c, v) => (from(c).startPosition = v),
  AUDITDUCK_BLOB_CONNECTION_STRING: (c, v) => (from(c).blobConnectionString = v),
  AUDITDUCK_BLOB_ACCOUNT_URL: (c, v) => (from(c).blobAccountUrl = v),
  AUDITDUCK_BLOB_CONTAINER: (c, v) => (from(c).blobContainer = v),
  AUDITDUCK_ROUTE_TO_CONNECTION_STRING: (c, v) => (to(c).connectionString = v),
  AUDITDUCK_ROUTE_TO_NAMESPACE: (c, v) => (to(c).namespace = v),
  AUDITDUCK_ROUTE_TO_HUB: (c, v) => (to(c).hubName = v),
  AUDITDUCK_HTTP_PORT: (c, v) => ((c.http ??= {}).port = Number(v)),
};

const from = (c: Record<string, any>): Record<string, unknown> => (c.from ??= {});
const to = (c: Record<string, any>): Record<string, unknown> => (c.to ??= {});

/** Flags win over the environment, which wins over the file. */
export interface RouteFlags {
  fromHub?: string;
  toHub?: string;
  port?: number;
}

export async function loadRouteConfig(file: string | undefined, env: NodeJS.ProcessEnv, flags: RouteFlags = {}): Promise<RouteConfig> {
  let raw: Record<string, any> = {};
  if (file) {
    try {
      const text = JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
      // A run config file may hold route's settings under `route`.
      raw = text.route ?? text;
    } catch (error) {
      throw new Error(`cannot read the config file ${file}: ${(error as Error).message}`);
    }
  }
  for (const [name, apply] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(raw, value);
  }
  if (flags.fromHub) from(raw).hubName = flags.fromHub;
  if (flags.toHub) to(raw).hubName = flags.toHub;
  if (flags.port !== undefined) (raw.http ??= {}).port = flags.port;
  const parsed = routeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  route.${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
    throw new Error(`the route configuration is not valid:\n${problems}\n(see docs/fleet.md, "Splitting a busy hub"; environment variables override the file, flags override both)`);
  }
  const config = parsed.data;
  for (const [side, hub] of [['from', config.from], ['to', config.to]] as const) {
    if (!hubNameOf(hub)) throw new Error(`the route configuration is not valid:\n  route.${side}.hubName: name the event hub, or put EntityPath= in the connection string`);
  }
  if (hubNameOf(config.from)!.toLowerCase() === hubNameOf(config.to)!.toLowerCase() && namespaceOf(config.from) === namespaceOf(config.to)) {
    throw new Error('the route configuration is not valid:\n  route.to.hubName: route would write into the hub it reads; give it a second hub');
  }
  return config;
}

export function hubNameOf(hub: { hubName?: string; connectionString?: string }): string | undefined {
  return hub.hubName ?? (hub.connectionString ? connectionStringParts(hub.connectionString).entityPath : undefined);
}

/** The namespace host (no scheme, no port). */
export function namespaceOf(hub: { namespace?: string; connectionString?: string }): string {
  const endpoint = hub.connectionString ? connectionStringParts(hub.connectionString).endpoint : hub.namespace;
  return (endpoint ?? '').replace(/^[a-z]+:\/\//i, '').replace(/[:/].*$/, '').toLowerCase();
}

/** What the start log shows: no connection string, no key. */
export function describeRouteConfig(config: RouteConfig): Record<string, unknown> {
  return {
    from: `${namespaceOf(config.from)}/${hubNameOf(config.from)}`,
    consumerGroup: config.from.consumerGroup,
    to: `${namespaceOf(config.to)}/${hubNameOf(config.to)}`,
    checkpoints: config.from.blobConnectionString ? `connection string, container ${config.from.blobContainer}` : `${config.from.blobAccountUrl}/${config.from.blobContainer}`,
    auth: config.from.connectionString ? 'connection string' : 'credential chain',
  };
}
