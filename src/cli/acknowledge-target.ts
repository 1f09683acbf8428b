/**
 * Where `auditduck alerts ack` writes: the store opened for writing, or, while `auditduck run` holds it
 * (DuckDB then lets no other process open it), run's query API, which acknowledges on run's own writer
 * between two commits. Found as `query` finds it: through `<db>.api.json` and its token.
 */
import { processIsAlive, readDiscoveryFile, type ApiDiscovery } from '../contracts/query-api-discovery.js';
import { acknowledgeAlerts, type AckClassification } from '../detect/acknowledge-alerts.js';
import { localEndpoint, postToQueryApi } from '../query/query-api-client.js';
import { assertStoreExists } from '../query/query-target.js';
import { closeDatabase, openDatabase } from '../store/open-database.js';

export interface Acknowledgement {
  ids: number[];
  /** The OS user running the command: $USER or a flag would let anyone sign as anyone. */
  by: string;
  comment: string | null;
  classification: AckClassification | null;
}

export interface Acknowledged {
  /** The ids that were open and are now acknowledged. */
  acknowledged: number[];
  /** The process of `auditduck run` that wrote them, when it held the store. */
  throughPid: number | null;
}

export async function acknowledgeInStore(dbPath: string, ack: Acknowledgement): Promise<Acknowledged> {
  assertStoreExists(dbPath);
  let db;
  try {
    db = await openDatabase(dbPath);
  } catch (error) {
    if (!/lock/i.test((error as Error).message)) throw error;
    const api = runHoldingStore(dbPath, error as Error);
    const response = await postToQueryApi(localEndpoint(dbPath, api), '/api/alerts/acknowledge', ack);
    return { acknowledged: ((await response.json()) as { acknowledged: number[] }).acknowledged, throughPid: api.pid };
  }
  try {
    return { acknowledged: await acknowledgeAlerts(db.connection, ack.ids, ack.by, ack.comment, ack.classification), throughPid: null };
  } finally {
    await closeDatabase(db);
  }
}

/** The `auditduck run` holding the store, or an error that says which kind of holder it is and what to do. */
function runHoldingStore(dbPath: string, lockError: Error): ApiDiscovery {
  const api = readDiscoveryFile(dbPath);
  if (api === null) {
    // Not run (run always publishes its API): serve, an ingest, a query or shell of someone else's, another tool.
    throw new Error(
      `cannot acknowledge: ${dbPath} is held by a process that is not \`auditduck run\` (no ${dbPath}.api.json): ` +
        'usually `auditduck serve` or an `auditduck ingest`, which DuckDB lets no writer in beside. ' +
        'Let the ingest finish or stop serve, then run this again. ' +
        `(${lockError.message.split('\n')[0]})`,
    );
  }
  if (!processIsAlive(api.pid)) {
    throw new Error(`cannot acknowledge: ${dbPath}.api.json names process ${api.pid}, which is not running, yet the store is locked: remove the stale file and check which process holds ${dbPath}`);
  }
  return api;
}
