/**
 * The environment of an `auditduck run` child in a test: its own store and HTTP port, optionally one hub
 * read from its earliest event, its own instance id, quiet logs; `extra` adds or overrides variables.
 */
export interface RunEnvOptions {
  db: string;
  /** The ops/query HTTP port ('0': any free port). */
  port: number | string;
  /** One hub of the test broker (or any connection string), read from its earliest event. */
  hub?: { connectionString: string; hubName: string };
  /** For a fleet (AUDITDUCK_INSTANCE_ID). */
  instanceId?: string;
  /** Default 'warn'. */
  logLevel?: string;
  extra?: NodeJS.ProcessEnv;
  /** What the child inherits; default this process's environment (a sandbox gives its own). */
  base?: NodeJS.ProcessEnv;
}

export function runEnv({ db, port, hub, instanceId, logLevel = 'warn', extra = {}, base = process.env }: RunEnvOptions): NodeJS.ProcessEnv {
  return {
    ...base,
    AUDITDUCK_DB: db,
    AUDITDUCK_HTTP_PORT: String(port),
    ...(hub
      ? { AUDITDUCK_EVENTHUB_CONNECTION_STRING: hub.connectionString, AUDITDUCK_EVENTHUB_NAME: hub.hubName, AUDITDUCK_START_POSITION: 'earliest' }
      : {}),
    ...(instanceId === undefined ? {} : { AUDITDUCK_INSTANCE_ID: instanceId }),
    AUDITDUCK_LOG_LEVEL: logLevel,
    ...extra,
  };
}
