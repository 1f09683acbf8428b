/**
 * Reads the `snapshots` section of a JSON configuration file and validates it. Errors name the field
 * and never echo values (a misplaced password must not end up on a terminal or in a log).
 */
import { readFile } from 'node:fs/promises';
import { snapshotConfigSchema, type SnapshotConfig } from './watched-server.js';

export async function loadSnapshotConfig(path: string): Promise<SnapshotConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the configuration ${path}: ${(error as Error).message}`);
  }
  const section = typeof json === 'object' && json !== null && 'snapshots' in json ? (json as { snapshots: unknown }).snapshots : {};
  const parsed = snapshotConfigSchema.safeParse(section);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `snapshots.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration in ${path}: ${problems}`);
  }
  return parsed.data;
}
