/** Starts Azurite's blob service from node_modules on a free port, in memory, for checkpoint-store and lake tests. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { openLakeStorage, parseLakeLocation, type LakeStorage } from '../../src/lake/index.js';
import { sha256Hex } from '../../src/lake/lake-storage.js';
import { freePort } from './local-ports.js';

export interface AzuriteBlob {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

/** Azurite's documented development account (public, not a secret). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Azurite did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startAzuriteBlob(): Promise<AzuriteBlob> {
  const port = await freePort();
  const bin = path.resolve('node_modules/.bin/azurite-blob');
  const child = spawn(
    bin,
    ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--silent'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 20_000);
  } catch (error) {
    // Left running, it would keep the test file's process alive after the failed hook: a hang, not a failure.
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A Blob lake in a fresh Azurite for `run`: its URL (`.../devstoreaccount1/audit-lake/prod`) and storage, with
 * AUDITDUCK_LAKE_CONNECTION_STRING (and AUDITDUCK_LAKE_MIRROR, unless set) set meanwhile, and put back after.
 */
export async function withBlobLake(run: (url: string, blob: LakeStorage) => Promise<void>): Promise<void> {
  const azurite = await startAzuriteBlob();
  const saved = process.env.AUDITDUCK_LAKE_CONNECTION_STRING;
  process.env.AUDITDUCK_LAKE_CONNECTION_STRING = azurite.connectionString;
  // The lake's local copy in a folder of its own, not the user's cache, unless the test chose one.
  const mirror = process.env.AUDITDUCK_LAKE_MIRROR ? null : await mkdtemp(join(tmpdir(), 'auditduck-lake-copy-'));
  if (mirror) process.env.AUDITDUCK_LAKE_MIRROR = mirror;
  try {
    const url = `http://127.0.0.1:${azurite.port}/devstoreaccount1/audit-lake/prod`;
    const blob = await openLakeStorage(parseLakeLocation(url));
    await blob.ensureReady();
    await run(url, blob);
  } finally {
    if (saved === undefined) delete process.env.AUDITDUCK_LAKE_CONNECTION_STRING;
    else process.env.AUDITDUCK_LAKE_CONNECTION_STRING = saved;
    if (mirror) {
      delete process.env.AUDITDUCK_LAKE_MIRROR;
      await rm(mirror, { recursive: true, force: true });
    }
    await azurite.stop();
  }
}

/** Puts every file of the directory lake `dir` into `blob` (those already there are left as they are). */
export async function copyLakeToBlob(dir: string, blob: LakeStorage): Promise<void> {
  const local = await openLakeStorage(parseLakeLocation(dir));
  for (const path of await local.list('')) {
    const file = join(dir, ...path.split('/'));
    await blob.put(path, file, sha256Hex(await readFile(file)));
  }
}
