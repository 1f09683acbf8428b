/**
 * `auditduck` as a child process in a test: started with its output kept, stopped, waited for, its /healthz
 * read; and the `run` instances of a fleet test, with the hubs each one leads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './local-ports.js';
import { CLI } from './cli-command.js';

/** Set to a directory to keep each fleet instance's log there, at level info (debugging). */
const LOG_DIR = process.env.FLEET_TEST_LOG_DIR;

/** `auditduck ARGS...` with stdout and stderr kept together for the test to read. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** SIGTERM, then waits for the exit (at once when it has exited already). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  await done;
}

/** The /healthz body of the process serving on 127.0.0.1:port, or null when it does not answer. */
export async function healthz<T>(port: number): Promise<T | null> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as T;
  } catch {
    return null;
  }
}

/** Waits until the process on 127.0.0.1:port serves /healthz (booting takes long on a loaded machine). */
export function waitServing(what: string, port: number, ms = 120_000): Promise<unknown> {
  return waitFor(`${what} to serve /healthz`, async () => ((await healthz(port)) === null ? undefined : true), ms);
}

/** One `run` of a fleet test: its store, its HTTP port, and the child running it (null before the first start). */
export interface FleetInstance {
  name: string;
  db: string;
  port: number;
  child: ChildProcess | null;
}

/** `run --config CONFIG` for the instance; its stderr inherited, dropped (`quiet`), or kept in FLEET_TEST_LOG_DIR. */
export function startFleetInstance(instance: FleetInstance, opts: { config: string; env: NodeJS.ProcessEnv; quiet?: boolean }): void {
  const env = LOG_DIR ? { ...opts.env, AUDITDUCK_LOG_LEVEL: 'info' } : opts.env;
  const stderr = LOG_DIR ? 'pipe' : opts.quiet ? 'ignore' : 'inherit';
  const child = spawn(process.execPath, [...CLI, 'run', '--config', opts.config], { env, stdio: ['ignore', 'ignore', stderr] });
  if (LOG_DIR) child.stderr!.pipe(createWriteStream(join(LOG_DIR, `${instance.name}.log`), { flags: 'a' }));
  instance.child = child;
}

/** The hubs each instance leads, sorted, as its /healthz says (an instance that is down or silent leads none). */
export function ledHubs(instances: readonly FleetInstance[]): Promise<string[][]> {
  return Promise.all(
    instances.map(async (instance) => {
      if (!instance.child || instance.child.exitCode !== null || instance.child.signalCode !== null) return [];
      const health = await healthz<{ hubs?: Array<{ hub: string; role: string }> }>(instance.port);
      return (health?.hubs ?? []).filter((h) => h.role === 'leader').map((h) => h.hub).sort();
    }),
  );
}
