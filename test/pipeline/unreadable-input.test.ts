/**
 * Inputs that cannot be read stop the ingest before anything is stored, with an error that names each of them
 * and says what is wrong: corrupt gzip (whose garbage zlib only flags at the end, after it was given out), a
 * directory (was a bare EISDIR), a path that does not exist.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { ingestPath } from '../../src/pipeline/ingest-path.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { IngestSummary } from '../../src/pipeline/ingest-summary.js';
import { compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { silentLogger } from '../support/store-reader.js';

const line = (n: number) => `2026-11-24 14:55:${String(n % 60).padStart(2, '0')} UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,${n},1,READ,SELECT,,,select ${n},<none>\n`;
const log = Array.from({ length: 2000 }, (_, i) => line(i + 1)).join('');

/** Stored (level 0) deflate blocks hand out the flipped bytes as data: only the CRC at the end says they are wrong. */
function corruptGzip(): Buffer {
  const gz = gzipSync(Buffer.from(log), { level: 0 });
  for (let i = 0; i < 200; i++) gz[Math.floor(gz.length / 2) + i]! ^= 0x5a;
  return gz;
}

describe('unreadable input', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-unreadable-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const CASES: { name: string; make: (path: string) => Promise<void>; reason: RegExp }[] = [
    { name: 'corrupt gzip', make: (p) => writeFile(p, corruptGzip()), reason: /gzip data is corrupt \(incorrect data check\) after \d+ decompressed bytes; `gzip -dc`/ },
    { name: 'a directory', make: (p) => mkdir(p), reason: /is a directory: give the log files in it/ },
    { name: 'a missing file', make: async () => undefined, reason: /does not exist/ },
  ];
  for (const c of CASES) {
    it(`${c.name}: the error names it and says nothing was stored`, async () => {
      const good = join(dir, `good-${c.name.replace(/\W/g, '')}.log`);
      const bad = join(dir, `bad-${c.name.replace(/\W/g, '')}.log.gz`);
      await writeFile(good, log);
      await c.make(bad);
      const db = join(dir, `${c.name.replace(/\W/g, '')}.duckdb`);
      await assert.rejects(
        ingestFiles([good, bad], { dbPath: db, format: 'stderr', logLinePrefix: '%t-%c-', server: 'pg1', log: silentLogger, batchRecords: 50 }),
        (error: Error) => {
          assert.match(error.message, /^1 of 2 inputs cannot be read, so nothing was stored:/);
          assert.ok(error.message.includes(`${bad}: `), error.message);
          assert.match(error.message, c.reason);
          return true;
        },
      );
      assert.equal(existsSync(db), false, 'no store was written');
    });
  }

  it('an error while reading names the input, the byte it stopped after and what of it was stored', async () => {
    // Past the check before reading (the file went bad while it was read): the reader meets the corruption itself.
    const bad = join(dir, 'went-bad.log.gz');
    await writeFile(bad, corruptGzip());
    const store = await AuditStore.open(':memory:');
    const pipeline = await IngestPipeline.create(store);
    const opts = { format: 'stderr' as const, prefix: compilePrefix('%t-%c-'), server: 'pg1', defaultServer: 'local', batchRecords: 50 };
    await assert.rejects(ingestPath(bad, { pipeline, store, summary: new IngestSummary(), log: silentLogger }, opts), (error: Error) => {
      assert.ok(error.message.startsWith(`${bad}: reading stopped after byte `), error.message);
      assert.match(error.message, /after byte \d+ \(incorrect data check\); [1-9]\d* records of it were stored, up to byte \d+; ingesting it again reads on from there$/);
      return true;
    });
    await assert.rejects(ingestPath(dir, { pipeline, store, summary: new IngestSummary(), log: silentLogger }, opts), (error: Error) => {
      assert.ok(error.message.startsWith(`${dir}: cannot be read (EISDIR`), error.message);
      return true;
    });
    await store.close();
  });
});
