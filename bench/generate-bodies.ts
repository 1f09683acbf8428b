/** Writes N synthetic Event Hubs bodies to a file: `node --import tsx bench/generate-bodies.ts FILE RECORDS`. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { syntheticBodies } from '../test/support/synthetic-events.js';

export async function writeSyntheticBodies(path: string, records: number, servers?: number): Promise<void> {
  const out = createWriteStream(path);
  for (const body of syntheticBodies({ records, ...(servers ? { servers } : {}) })) {
    if (!out.write(`${body}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeSyntheticBodies(process.argv[2]!, Number(process.argv[3] ?? 100_000));
}
