/** Starts Azurite's blob service from node_modules on a free port, in memory, for checkpoint-store tests. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
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
