import type { LineDecoder, SourceLine } from '../../sources/source-line.js';
import type { DecodeResult } from '../../contracts/log-record.js';
import type { CompiledPrefix } from '../prefix/compile-prefix.js';
import { nestsDeeperThan, tooDeepReason } from '../json-depth.js';
import { decodeAzureRecord, decodeEventBody } from './azure-record.js';

interface Options {
  source: string;
  prefix: CompiledPrefix;
  server?: string;
}

/** A capture of an Event Hub: one event body `{"records":[...]}` per line. Stateless: nothing is held back. */
export function createEventHubsLineDecoder(opts: Options): LineDecoder<DecodeResult> {
  return statelessDecoder((line) => decodeEventBody(line.text, { ...opts, position: String(line.start) }));
}

/** A Storage `PT1H.json` blob: one record per line. */
export function createAzureNdjsonLineDecoder(opts: Options): LineDecoder<DecodeResult> {
  return statelessDecoder((line) => {
    const ctx = { ...opts, position: String(line.start) };
    let record: unknown;
    try {
      record = JSON.parse(line.text);
    } catch (error) {
      return [{ kind: 'dead', dead: { source: opts.source, position: ctx.position, reason: `record is not valid JSON: ${(error as Error).message}`, raw: line.text } }];
    }
    if (nestsDeeperThan(record)) return [{ kind: 'dead', dead: { source: opts.source, position: ctx.position, reason: tooDeepReason('record'), raw: line.text } }];
    return [decodeAzureRecord(record, ctx)];
  });
}

function statelessDecoder(decode: (line: SourceLine) => DecodeResult[]): LineDecoder<DecodeResult> {
  return {
    push: (line) => (line.text.trim() === '' ? [] : decode(line)),
    flush: () => [],
    pendingStart: () => null,
  };
}
