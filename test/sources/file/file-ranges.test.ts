/**
 * A file cut into ranges for the worker threads: the ranges end at line ends and follow each other, and reading
 * each range alone gives every line of the file once, with its offsets, as reading the whole file does.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFileRanges } from '../../../src/sources/file/file-ranges.js';
import { readLines } from '../../../src/sources/file/read-lines.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditduck-ranges-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lines(path: string, from: number, until?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of readLines(path, from, until)) for (const l of chunk.lines) out.push(`${l.start}-${l.end}:${l.text}`);
  return out;
}

it('cuts a file at line ends into ranges that, read alone, give every line once', async () => {
  const path = join(dir, 'input.jsonl');
  // Short lines, a line longer than a range (200 KiB), multi-byte text, and a last line without its newline.
  const text = ['{"a":1}', 'x'.repeat(200 * 1024), ...Array.from({ length: 5000 }, (_, i) => `{"n":${i},"é":"ü"}`), 'tail-without-newline'].join('\n');
  await writeFile(path, text);
  const size = Buffer.byteLength(text);
  for (const from of [0, 8]) {
    const ranges = await planFileRanges(path, from, size, 16 * 1024);
    assert.equal(ranges[0]!.start, from);
    assert.equal(ranges.at(-1)!.end, size);
    for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]!.start, ranges[i - 1]!.end);
    const bytes = Buffer.from(text);
    for (const r of ranges.slice(0, -1)) assert.equal(bytes[r.end - 1], 10, `range ${r.start}-${r.end} ends at a newline`);
    const pieces: string[] = [];
    for (const r of ranges) pieces.push(...(await lines(path, r.start, r.end)));
    assert.deepEqual(pieces, await lines(path, from));
  }
});
