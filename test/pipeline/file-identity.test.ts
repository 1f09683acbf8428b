/**
 * A file is known by its content, not its path: a log that grows is read on from where the last ingest stopped,
 * whatever its size (a file under 512 bytes was read again from the start once it grew: 9 rows for 6 lines); a
 * rotated (renamed, gzipped) file is the same file; a new file at the old path is a new one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

/** One audited statement per line, about 90 bytes: five lines stay under the 512-byte head. */
const line = (n: number, session = '6b05a553.26bf') => `2026-11-24 14:${String(10 + Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')} UTC-${session}-LOG:  AUDIT: SESSION,${n},1,READ,SELECT,,,select ${n},<none>\n`;
const lines = (from: number, to: number, session?: string) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i, session)).join('');

describe('file identity', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-file-identity-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fresh = () => ({ db: join(dir, `store-${++n}.duckdb`), log: join(dir, `postgresql-${n}.log`) });
  const ingest = (db: string, ...paths: string[]) => ingestFiles(paths, { dbPath: db, format: 'stderr', logLinePrefix: '%t-%c-', server: 'pg1', log: silentLogger });
  const statements = async (db: string) => (await queryStore(db, 'SELECT statement_id FROM audit_events ORDER BY statement_id')).map((r) => Number(r.statement_id));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  const GROWTH: { name: string; first: [number, number]; then: [number, number][] }[] = [
    { name: 'a file under 512 bytes that grows', first: [1, 3], then: [[4, 6]] },
    { name: 'a file under 512 bytes that grows twice', first: [1, 3], then: [[4, 6], [7, 9]] },
    { name: 'a file under 512 bytes that grows past them', first: [1, 2], then: [[3, 40]] },
    { name: 'a file over 512 bytes that grows', first: [1, 20], then: [[21, 25]] },
  ];
  for (const c of GROWTH) {
    it(`${c.name} is read on from where it stopped: every line once`, async () => {
      const { db, log } = fresh();
      await writeFile(log, lines(...c.first));
      await ingest(db, log);
      for (const [from, to] of c.then) {
        await appendFile(log, lines(from, to));
        await ingest(db, log);
      }
      assert.deepEqual(await statements(db), range(c.first[0], c.then.at(-1)![1]));
    });
  }

  it('a small file read again unchanged adds nothing', async () => {
    const { db, log } = fresh();
    await writeFile(log, lines(1, 3));
    await ingest(db, log);
    await ingest(db, log);
    assert.deepEqual(await statements(db), [1, 2, 3]);
  });

  it('a rotated file (renamed, grown, then gzipped) is the same file; a new file at its path is a new one', async () => {
    const { db, log } = fresh();
    await writeFile(log, lines(1, 3));
    await ingest(db, log);
    // Rotation: the server writes its last lines, the file is renamed and a new one begins at the same path.
    await appendFile(log, lines(4, 5));
    await rename(log, `${log}.1`);
    await writeFile(log, lines(100, 102, '6b05a600.2a00'));
    await ingest(db, `${log}.1`, log);
    assert.deepEqual(await statements(db), [1, 2, 3, 4, 5, 100, 101, 102]);
    await writeFile(`${log}.1.gz`, gzipSync(await readFile(`${log}.1`)));
    await ingest(db, `${log}.1.gz`, log);
    assert.deepEqual(await statements(db), [1, 2, 3, 4, 5, 100, 101, 102]);
  });

  it('a different small file that starts like one read before is not mistaken for it', async () => {
    const { db, log } = fresh();
    await writeFile(log, lines(1, 3));
    await ingest(db, log);
    const other = join(dir, 'other.log');
    await writeFile(other, lines(1, 2) + lines(50, 52));
    await ingest(db, other);
    // It is read whole: its own copy of lines 1 and 2 is its content, not a resume of the first file.
    assert.deepEqual(await statements(db), [1, 1, 2, 2, 3, 50, 51, 52]);
  });
});
