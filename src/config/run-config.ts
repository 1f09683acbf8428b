/**
 * The configuration of `auditduck run`: a JSON file (`--config`) and environment variables, the
 * environment winning, validated at start with messages that name the field. Each component owns its
 * schema; this file only composes them. Secrets (connection strings, webhook URLs) may come from either
 * source but are never printed: see `describeConfig`.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { alertingConfigSchema, describeUrl } from '../alert/index.js';
import { detectionConfigSchema } from '../detect/index.js';
import { eventHubsSourceConfigSchema, type EventHubsSourceConfig } from '../sources/eventhubs/eventhubs-config.js';
import { snapshotConfigSchema } from '../snapshot/watched-server.js';
import { operationsConfigSchema } from './operations-config.js';
import { describeLake, lakeExportConfigSchema, retentionConfigSchema } from '../lake/index.js';
import { AZURE_LOG_LINE_PREFIX } from '../decode/prefix/compile-prefix.js';
import { redactConnectionString } from '../redact/index.js';
import { DEFAULT_DB_PATH } from './store-path.js';
import { fleetToken, isPeerUrl, parsePeerUrl, peerNeedsToken, QUERY_API_TOKEN_ENV, QUERY_API_TOKEN_FILE_ENV } from '../query/fleet-peer.js';
import { readFleetTokens } from '../query/fleet-tokens.js';
import { HTTP_TRUSTED_PROXIES_ENV, proxyList, trustedProxies } from '../web/client-address.js';
import { configuredUiToken, isLoopback, UI_TOKEN_ENV } from '../web/dashboards/ui-token.js';

/** Reverse proxies in front of a listener: each entry checked at start, named by its index. */
const trustedProxiesSchema = z
  .array(z.string().trim().min(1))
  .default([])
  .superRefine((list, ctx) => {
    list.forEach((entry, index) => {
      try {
        trustedProxies([entry]);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [index], message: (error as Error).message });
      }
    });
  });

export const runConfigSchema = z.strictObject({
  db: z.string().default(DEFAULT_DB_PATH).describe('the DuckDB store'),
  logLinePrefix: z.string().default(AZURE_LOG_LINE_PREFIX).describe("the servers' log_line_prefix"),
  eventHubs: z
    .union([eventHubsSourceConfigSchema, z.array(eventHubsSourceConfigSchema).min(1)])
    .optional()
    .describe('one hub, or a list of hubs this instance reads (docs/fleet.md); absent: the demo stream from samples/'),
  instanceId: z.string().min(1).optional().describe('names this instance in the fleet of a hub (checkpointStore blob); default: host name and store path'),
  fleetPeers: z
    .array(z.string().min(1))
    .default([])
    .describe("the other instances' stores, as `query --fleet` takes them: the dashboards then show the whole fleet, each record once (docs/fleet.md)"),
  queryApi: z
    .strictObject({
      host: z.string().min(1).optional().describe('an address for the fleet\'s peers on other machines (AUDITDUCK_QUERY_API_HOST); absent: the query API is on loopback only'),
      port: z.number().int().min(0).max(65535).default(8081).describe('its port (AUDITDUCK_QUERY_API_PORT)'),
      token: z.string().optional().describe('the fleet\'s shared token (AUDITDUCK_QUERY_API_TOKEN): required with host (or tokenFile), sent to fleetPeers given as URLs; never printed'),
      tokenFile: z
        .string()
        .min(1)
        .optional()
        .describe('a file holding the fleet\'s token instead (AUDITDUCK_QUERY_API_TOKEN_FILE, a mounted secret), read again when it changes: the new token, then during a rotation the previous one'),
      trustedProxies: trustedProxiesSchema.describe('the reverse proxies in front of that listener (AUDITDUCK_QUERY_API_TRUSTED_PROXIES, comma-separated): addresses, CIDR ranges, loopback, linklocal, uniquelocal; from them X-Forwarded-For names the client whose wrong tokens are counted; none by default'),
    })
    .prefault({})
    .describe('the query API for the fleet across machines (docs/fleet.md)'),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080).describe('UI, /metrics, /healthz; 0 = off'),
      trustedProxies: trustedProxiesSchema.describe(
        'the reverse proxies in front of the dashboards (AUDITDUCK_HTTP_TRUSTED_PROXIES, comma-separated), as queryApi.trustedProxies: from them X-Forwarded-For names the client whose wrong UI tokens are counted; none by default',
      ),
    })
    .prefault({}),
  alerting: alertingConfigSchema.prefault({}).describe('where alerts are delivered: the log, a webhook'),
  detection: detectionConfigSchema.prefault({}),
  snapshots: snapshotConfigSchema.prefault({}).describe('live pg_roles snapshots of watched servers (none by default)'),
  operations: operationsConfigSchema.prefault({}).describe('retries, readiness thresholds, shutdown time (docs/operations.md)'),
  lake: z.string().min(1).optional().describe('the audit lake: a directory or a Blob container URL (AUDITDUCK_LAKE, docs/lake.md); absent: no lake'),
  lakeExport: lakeExportConfigSchema.prefault({}),
  retention: retentionConfigSchema.prefault({}).describe('hot store retention; needs a lake'),
});

export type RunConfig = z.infer<typeof runConfigSchema>;

/** DESIGN's fixed environment names → config paths. */
const ENV: Record<string, (c: Record<string, any>, v: string) => void> = {
  AUDITDUCK_DB: (c, v) => (c.db = v),
  AUDITDUCK_INSTANCE_ID: (c, v) => (c.instanceId = v),
  AUDITDUCK_EVENTHUB_CONNECTION_STRING: (c, v) => (hub(c).connectionString = v),
  AUDITDUCK_EVENTHUB_NAMESPACE: (c, v) => (hub(c).namespace = v),
  AUDITDUCK_EVENTHUB_NAME: (c, v) => (hub(c).hubName = v),
  AUDITDUCK_CONSUMER_GROUP: (c, v) => (hub(c).consumerGroup = v),
  AUDITDUCK_START_POSITION: (c, v) => (hub(c).startPosition = v),
  AUDITDUCK_CHECKPOINT_STORE: (c, v) => (hub(c).checkpointStore = v),
  AUDITDUCK_BLOB_CONNECTION_STRING: (c, v) => (hub(c).blobConnectionString = v),
  AUDITDUCK_BLOB_ACCOUNT_URL: (c, v) => (hub(c).blobAccountUrl = v),
  AUDITDUCK_BLOB_CONTAINER: (c, v) => (hub(c).blobContainer = v),
  AUDITDUCK_QUERY_API_HOST: (c, v) => ((c.queryApi ??= {}).host = v),
  AUDITDUCK_QUERY_API_PORT: (c, v) => ((c.queryApi ??= {}).port = Number(v)),
  [QUERY_API_TOKEN_ENV]: (c, v) => ((c.queryApi ??= {}).token = v),
  [QUERY_API_TOKEN_FILE_ENV]: (c, v) => ((c.queryApi ??= {}).tokenFile = v),
  AUDITDUCK_QUERY_API_TRUSTED_PROXIES: (c, v) => ((c.queryApi ??= {}).trustedProxies = proxyList(v)),
  AUDITDUCK_HTTP_PORT: (c, v) => ((c.http ??= {}).port = Number(v)),
  AUDITDUCK_HTTP_HOST: (c, v) => ((c.http ??= {}).host = v),
  [HTTP_TRUSTED_PROXIES_ENV]: (c, v) => ((c.http ??= {}).trustedProxies = proxyList(v)),
  AUDITDUCK_WEBHOOK_URL: (c, v) => (((c.alerting ??= {}).webhook ??= {}).url = v),
  AUDITDUCK_LOG_LINE_PREFIX: (c, v) => (c.logLinePrefix = v),
  AUDITDUCK_SHUTDOWN_TIMEOUT_MS: (c, v) => (ops(c).shutdownTimeoutMs = Number(v)),
  AUDITDUCK_POISON_BATCH_ATTEMPTS: (c, v) => ((ops(c).retry ??= {}).maxAttempts = Number(v)),
  AUDITDUCK_PARTITION_FAILING_MS: (c, v) => ((ops(c).readiness ??= {}).partitionFailingMs = Number(v)),
  AUDITDUCK_SINK_FAILING_MS: (c, v) => ((ops(c).readiness ??= {}).sinkFailingMs = Number(v)),
  AUDITDUCK_LAKE_FAILING_MS: (c, v) => ((ops(c).readiness ??= {}).lakeFailingMs = Number(v)),
  AUDITDUCK_LAKE: (c, v) => (c.lake = v),
  AUDITDUCK_LAKE_INTERVAL_MS: (c, v) => ((c.lakeExport ??= {}).intervalMs = Number(v)),
  AUDITDUCK_RETENTION_HOT_DAYS: (c, v) => ((c.retention ??= {}).hotDays = Number(v)),
};

/** Every environment variable `run` reads for its configuration. */
export const RUN_CONFIG_ENV_NAMES: readonly string[] = Object.keys(ENV);

function hub(c: Record<string, any>): Record<string, unknown> {
  if (Array.isArray(c.eventHubs)) {
    throw new Error('the configuration is not valid:\n  eventHubs: the config file lists several hubs; the AUDITDUCK_EVENTHUB_*, _CONSUMER_GROUP, _START_POSITION, _CHECKPOINT_STORE and _BLOB_* variables name one: set each hub in the file');
  }
  return (c.eventHubs ??= {});
}

function ops(c: Record<string, any>): Record<string, any> {
  return (c.operations ??= {});
}

export async function loadRunConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<RunConfig> {
  let raw: Record<string, any> = {};
  if (file) {
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the config file ${file}: ${(error as Error).message}`);
    }
  }
  for (const [name, apply] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(raw, value);
  }
  const parsed = runConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
    throw new Error(`the configuration is not valid:\n${problems}\n(see docs/configuration.md; environment variables override the file)`);
  }
  const config = parsed.data;
  if (config.retention.hotDays !== undefined && !config.lake) {
    throw new Error('the configuration is not valid:\n  retention.hotDays: drops rows from the store once they are in the lake, so it needs a lake (lake, AUDITDUCK_LAKE)');
  }
  checkFleetQueryApi(config);
  if (config.http.trustedProxies.length > 0 && isLoopback(config.http.host) && configuredUiToken(env) === undefined) {
    throw new Error(
      `the configuration is not valid:\n  http.trustedProxies: the dashboards count wrong UI tokens per client, but on loopback (http.host ${config.http.host}) they ask for no token: ` +
        `set http.host (AUDITDUCK_HTTP_HOST) to the address the proxies reach, or ${UI_TOKEN_ENV}, or drop the trusted proxies`,
    );
  }
  for (const hub of eventHubsOf(config)) {
    if (!hub.hubName && !hubNameFromConnectionString(hub.connectionString)) {
      throw new Error('the configuration is not valid:\n  eventHubs.hubName: name the event hub (AUDITDUCK_EVENTHUB_NAME), or put EntityPath= in the connection string');
    }
  }
  return config;
}

/**
 * The query API opens to other machines only with the fleet's token, and peers given as URLs need it too:
 * refused at start, with what to set, rather than a listener anyone may query or a dashboard full of 401s.
 */
function checkFleetQueryApi(config: RunConfig): void {
  const invalid = (field: string, message: string) => new Error(`the configuration is not valid:\n  ${field}: ${message}`);
  const { tokenFile } = config.queryApi;
  if (config.queryApi.trustedProxies.length > 0 && config.queryApi.host === undefined) {
    throw invalid(
      'queryApi.trustedProxies',
      "only the listener for the fleet's peers is reached through reverse proxies, and there is none without queryApi.host (AUDITDUCK_QUERY_API_HOST): set it, or drop the trusted proxies",
    );
  }
  if (tokenFile !== undefined) {
    if (config.queryApi.token !== undefined) {
      throw invalid('queryApi.tokenFile', `give the fleet's token either in queryApi.token (${QUERY_API_TOKEN_ENV}) or in queryApi.tokenFile (${QUERY_API_TOKEN_FILE_ENV}), not both`);
    }
    try {
      readFleetTokens(tokenFile);
    } catch (error) {
      throw invalid('queryApi.tokenFile', (error as Error).message);
    }
  }
  const token = (missing: string, field: string) => {
    if (tokenFile !== undefined) return;
    try {
      fleetToken(config.queryApi.token, missing);
    } catch (error) {
      throw invalid(field, (error as Error).message);
    }
  };
  if (config.queryApi.host !== undefined) {
    token(
      `queryApi.host (AUDITDUCK_QUERY_API_HOST=${config.queryApi.host}) opens the query API to the fleet's other machines, so it needs the fleet's token: ` +
        `set ${QUERY_API_TOKEN_ENV} (at least 32 characters: openssl rand -base64 32) or ${QUERY_API_TOKEN_FILE_ENV}, the same on every instance; the query API stays on loopback without queryApi.host`,
      'queryApi.token',
    );
  }
  for (const peer of config.fleetPeers.filter(isPeerUrl)) {
    try {
      parsePeerUrl(peer);
    } catch (error) {
      throw invalid('fleetPeers', (error as Error).message);
    }
    token(peerNeedsToken(peer), 'fleetPeers');
  }
}

export function hubNameFromConnectionString(connectionString: string | undefined): string | undefined {
  return connectionString ? /(?:^|;)EntityPath=([^;]+)/i.exec(connectionString)?.[1] : undefined;
}

/** The hubs `run` reads: none (the demo stream), one, or the list. */
export function eventHubsOf(config: Pick<RunConfig, 'eventHubs'>): EventHubsSourceConfig[] {
  if (!config.eventHubs) return [];
  return Array.isArray(config.eventHubs) ? config.eventHubs : [config.eventHubs];
}

function describeHub(hub: EventHubsSourceConfig): Record<string, unknown> {
  return {
    ...hub,
    connectionString: hub.connectionString ? redactConnectionString(hub.connectionString) : undefined,
    blobConnectionString: hub.blobConnectionString ? redactConnectionString(hub.blobConnectionString) : undefined,
  };
}

/** The configuration as it may be logged: secrets masked. */
export function describeConfig(config: RunConfig): Record<string, unknown> {
  return {
    db: config.db,
    ...(config.instanceId ? { instanceId: config.instanceId } : {}),
    logLinePrefix: config.logLinePrefix,
    eventHubs: config.eventHubs
      ? Array.isArray(config.eventHubs)
        ? config.eventHubs.map(describeHub)
        : describeHub(config.eventHubs)
      : 'demo (samples/)',
    http: config.http,
    ...(config.queryApi.host !== undefined
      ? {
          queryApi: {
            host: config.queryApi.host,
            port: config.queryApi.port,
            ...(config.queryApi.tokenFile !== undefined ? { tokenFile: config.queryApi.tokenFile } : { token: config.queryApi.token ? '(set)' : '(not set)' }),
            ...(config.queryApi.trustedProxies.length > 0 ? { trustedProxies: config.queryApi.trustedProxies } : {}),
          },
        }
      : {}),
    ...(config.fleetPeers.length > 0 ? { fleetPeers: config.fleetPeers } : {}),
    ...(config.lake ? { lake: describeLake(config.lake), lakeExport: config.lakeExport, retention: config.retention } : {}),
    alerting: { ...config.alerting, webhook: { ...config.alerting.webhook, url: config.alerting.webhook.url ? describeUrl(config.alerting.webhook.url) : undefined, headers: Object.keys(config.alerting.webhook.headers) } },
  };
}
