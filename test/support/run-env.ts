/**
 * The environment of an `auditduck run` child in a test: its own store and HTTP port, optionally one hub
 * read from its earliest event, its own instance id, quiet logs; `extra` adds or overrides variables.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from './local-ports.js';

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

/** How many records the built-in demo stream (samples/eventhubs) holds. */
export async function demoRecordCount(): Promise<number> {
  const dir = 'samples/eventhubs';
  let n = 0;
  for (const file of await readdir(dir)) {
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) if (line.trim()) n += (JSON.parse(line) as { records: unknown[] }).records.length;
  }
  return n;
}

/** Waits until the `run` serving on 127.0.0.1:port has stored the whole demo stream, and with it its alerts. */
export async function demoIngested(port: number): Promise<void> {
  const expected = await demoRecordCount();
  await waitFor('the whole demo stream stored', async () => {
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.json().catch(() => null)) as { records?: number } | null;
    return health?.records === expected ? true : undefined;
  });
}
