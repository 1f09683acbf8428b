/**
 * `lake verify` and the readers over a lake of many segments: `run` cuts one a minute, half a million a year. A lake
 * held in memory (no file is read), of more segments than a function's arguments may spread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyLake, type LakeStorage } from '../../src/lake/index.js';
import { readManifest } from '../../src/lake/manifest-checkpoints.js';
import { manifestPath, MANIFEST_FORMAT, sealEntry, serializeEntry } from '../../src/lake/manifest.js';

const SEGMENTS = 200_000;

/** A lake of `segments` chained entries naming no file, read from memory. */
function lakeOfManySegments(segments: number): LakeStorage {
  const texts = new Map<string, string>();
  let previous: string | null = null;
  for (let seq = 1; seq <= segments; seq++) {
    const entry = sealEntry({ format: MANIFEST_FORMAT, seq, segment: `${String(seq).padStart(8, '0')}-000000000000`, createdAt: '2026-11-20T10:00:00.000Z', previous, positions: {}, files: [], tables: {} });
    texts.set(manifestPath(seq), serializeEntry(entry));
    previous = entry.hash;
  }
  const paths = [...texts.keys()];
  return {
    description: 'memory',
    ensureReady: async () => undefined,
    put: async () => assert.fail('nothing is written'),
    putText: async () => assert.fail('nothing is written'),
    get: async (path) => (texts.has(path) ? Buffer.from(texts.get(path)!) : null),
    list: async (prefix = '') => paths.filter((path) => path.startsWith(prefix)),
  };
}

describe('a lake of many segments', () => {
  const lake = lakeOfManySegments(SEGMENTS);

  it('verifies, every segment counted', async () => {
    const verification = await verifyLake(lake);
    assert.deepEqual(verification.problems, []);
    assert.equal(verification.segments, SEGMENTS);
  });

  it('is read whole by a reader without a checkpoint', async () => {
    assert.equal((await readManifest(lake)).segments, SEGMENTS);
  });
});
