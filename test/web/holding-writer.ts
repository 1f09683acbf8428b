/**
 * Stands in for `auditduck run` in the query tests: holds the store for writing (so no other process can
 * open it), serves the query API on its own connection, publishes the discovery file, and keeps inserting
 * audit events until it gets SIGTERM. Prints "ready <port>" on stdout once rows exist.
 * Usage: node --import tsx test/web/holding-writer.ts DB_PATH
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confineDatabase } from '../../src/query/confine-database.js';
import { queryLimitsFromEnv } from '../../src/query/query-limits.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { newApiToken, removeDiscoveryFile, startQueryApi, writeDiscoveryFile } from '../../src/web/query-api.js';

const dbPath = process.argv[2];
if (!dbPath) throw new Error('usage: holding-writer.ts DB_PATH');

const store = await AuditStore.open(dbPath);
// As `auditduck run` does (start-main-job.ts).
const exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-files-'));
await confineDatabase(store.db.connection, { writableDirs: [exportDir] });
const apiConnection = await store.db.instance.connect();
const token = newApiToken();
const api = await startQueryApi({ connection: apiConnection, exportDir, limits: queryLimitsFromEnv(), host: '127.0.0.1', port: 0, token });
writeDiscoveryFile(dbPath, { port: api.port, token });

let n = 0;
/** The insert in flight: closing DuckDB while a statement runs on its connection blocks the process for good. */
let inFlight: Promise<unknown> = Promise.resolve();
const insertOne = async () => {
  n++;
  await store.connection.run(
    `INSERT INTO audit_events (server, logged_at, session_id, audit_type, class, command, statement, source, position)
     VALUES ('pg-prod', now(), 's${n}', 'SESSION', 'ROLE', 'CREATE ROLE', 'create role r${n}', 'holding-writer', '${n}')`,
  );
};
for (let i = 0; i < 5; i++) await insertOne();
const timer = setInterval(() => {
  inFlight = inFlight.then(insertOne, insertOne);
}, 20);
process.stdout.write(`ready ${api.port}\n`);

const stop = async () => {
  // Never outlive the test, even if closing hangs.
  setTimeout(() => process.exit(1), 2_000).unref();
  clearInterval(timer);
  await inFlight.catch(() => undefined);
  removeDiscoveryFile(dbPath);
  await api.close();
  apiConnection.closeSync();
  await store.close();
  await rm(exportDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// If the test process dies without stopping us, its end of our stdin closes: stop too, never linger.
process.stdin.on('end', () => void stop());
process.stdin.resume();
