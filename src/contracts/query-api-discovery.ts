/**
 * How a CLI finds the process that holds the store. `auditduck run` writes `<db>.api.json` (mode 0600:
 * the token in it is the only key to the query API) when it starts serving and removes it on exit.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const DiscoverySchema = z.strictObject({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  token: z.string().min(16),
  host: z.string().default('127.0.0.1'),
});

export type ApiDiscovery = z.infer<typeof DiscoverySchema>;

export function discoveryPath(dbPath: string): string {
  return `${dbPath}.api.json`;
}

export function writeDiscoveryFile(dbPath: string, api: { port: number; token: string; host?: string; pid?: number }): string {
  const path = discoveryPath(dbPath);
  const body: ApiDiscovery = { pid: api.pid ?? process.pid, port: api.port, token: api.token, host: api.host ?? '127.0.0.1' };
  // Remove first: writeFileSync keeps the mode of a file that already exists.
  rmSync(path, { force: true });
  writeFileSync(path, `${JSON.stringify(body)}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}

export function removeDiscoveryFile(dbPath: string): void {
  rmSync(discoveryPath(dbPath), { force: true });
}

/** null when there is no discovery file; an error when there is one that cannot be used. */
export function readDiscoveryFile(dbPath: string): ApiDiscovery | null {
  const path = discoveryPath(dbPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON; remove it if no 'auditduck run' is running`);
  }
  const result = DiscoverySchema.safeParse(parsed);
  if (!result.success) throw new Error(`${path} is not a query API discovery file (${result.error.issues[0]?.message}); remove it if no 'auditduck run' is running`);
  return result.data;
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
