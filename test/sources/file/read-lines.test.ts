/**
 * readLines gives back every line of a file exactly, with the byte offsets a resume starts from, whatever the
 * line lengths against the size of a read (lines across reads, longer than a read, CRLF, no final newline, gzip).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';

import { readLines } from '../../../src/sources/file/read-lines.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditduck-read-lines-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string, from = 0): Promise<{ text: string; start: number; end: number }[]> {
  const out: { text: string; start: number; end: number }[] = [];
  for await (const chunk of readLines(path, from)) for (const line of chunk.lines) out.push({ text: line.text, start: line.start, end: line.end });
  return out;
}

/** What the lines of `content` are, with their offsets, by the definition: split on LF, a CR before it dropped. */
function expected(content: Buffer, from = 0): { text: string; start: number; end: number }[] {
  const out: { text: string; start: number; end: number }[] = [];
  let start = from;
  while (start < content.length) {
    const nl = content.indexOf(10, start);
    const end = nl === -1 ? content.length : nl + 1;
    let bytes = content.subarray(start, nl === -1 ? content.length : nl);
    if (bytes.at(-1) === 13) bytes = bytes.subarray(0, -1);
    out.push({ text: bytes.toString('utf8'), start, end });
    start = end;
  }
  return out;
}

const line = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.nat({ max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ maxLength: 20 }).map((s) => `${s}\r`),
).map((s) => s.replace(/\n/g, ' '));

describe('readLines', () => {
  it('gives every line and its offsets, from the start and from any line start (property)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.boolean(), fc.nat(), async (lines, finalNewline, pick) => {
        const content = Buffer.from(lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : ''), 'utf8');
        const path = join(dir, `lines-${n++}.log`);
        await writeFile(path, content);
        const all = expected(content);
        assert.deepEqual(await readAll(path), all);
        if (all.length > 0) {
          const resumeAt = all[pick % all.length]!.start;
          assert.deepEqual(await readAll(path, resumeAt), expected(content, resumeAt));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads a gzip file as its decompressed lines, resuming by decompressed offset', async () => {
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i} ${'y'.repeat(i % 300)}`).join('\n') + '\n');
    const path = join(dir, 'lines.log.gz');
    await writeFile(path, gzipSync(content));
    const all = expected(content);
    assert.deepEqual(await readAll(path), all);
    assert.deepEqual(await readAll(path, all[4321]!.start), all.slice(4321));
  });
});
