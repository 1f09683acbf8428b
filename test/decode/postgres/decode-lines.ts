/** Test helpers: split text into SourceLines with real byte offsets, and run a decoder over them. */
import { readFileSync } from 'node:fs';
import type { DecodeResult, DeadLetter, LogRecord } from '../../../src/contracts/log-record.js';
import type { LineDecoder, SourceLine } from '../../../src/sources/source-line.js';

export const FIXTURES = new URL('../../fixtures/postgres-logs/', import.meta.url);

export function linesOf(text: string): SourceLine[] {
  const lines: SourceLine[] = [];
  const buf = Buffer.from(text, 'utf8');
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    const end = nl === -1 ? buf.length : nl + 1;
    lines.push({ text: buf.toString('utf8', start, nl === -1 ? buf.length : nl).replace(/\r$/, ''), start, end });
    start = end;
  }
  return lines;
}

export function fixtureLines(name: string): SourceLine[] {
  return linesOf(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

export function decodeAll(decoder: LineDecoder<DecodeResult>, lines: SourceLine[]): { records: LogRecord[]; dead: DeadLetter[] } {
  const results = [...lines.flatMap((line) => decoder.push(line)), ...decoder.flush()];
  return {
    records: results.flatMap((r) => (r.kind === 'record' ? [r.record] : [])),
    dead: results.flatMap((r) => (r.kind === 'dead' ? [r.dead] : [])),
  };
}
