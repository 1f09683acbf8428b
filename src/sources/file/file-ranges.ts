/**
 * A plain file cut into byte ranges that end at a line's end, so that each range can be read on its own
 * (`readLines(path, start, end)`) by another thread and the ranges together hold every line once.
 * Only for formats with one record per line: a range boundary would split a multi-line entry.
 */
import { open } from 'node:fs/promises';

export interface FileRange {
  start: number;
  end: number;
}

const SCAN_BYTES = 64 * 1024;

/** Ranges of about `rangeBytes` from `from` to `size` (the file's size when it was planned; what grows after is read next time). */
export async function planFileRanges(path: string, from: number, size: number, rangeBytes: number): Promise<FileRange[]> {
  const ranges: FileRange[] = [];
  const handle = await open(path, 'r');
  try {
    let start = from;
    while (start < size) {
      const end = start + rangeBytes >= size ? size : await lineEndAfter(handle, start + rangeBytes, size);
      ranges.push({ start, end });
      start = end;
    }
  } finally {
    await handle.close();
  }
  return ranges;
}

/** The offset just past the first newline at or after `offset` (the file's size when there is none). */
async function lineEndAfter(handle: Awaited<ReturnType<typeof open>>, offset: number, size: number): Promise<number> {
  const buffer = Buffer.alloc(SCAN_BYTES);
  for (let at = offset - 1; at < size; at += SCAN_BYTES) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(SCAN_BYTES, size - at), at);
    if (bytesRead === 0) break;
    const nl = buffer.subarray(0, bytesRead).indexOf(10);
    if (nl !== -1) return at + nl + 1;
  }
  return size;
}
