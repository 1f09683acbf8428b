/**
 * The input formats `auditduck ingest` reads, each a line decoder. One list feeds the CLI choices,
 * the config enum and the registry below.
 */
import type { LineDecoder } from '../../sources/source-line.js';
import type { DecodeResult } from '../../contracts/log-record.js';
import type { CompiledPrefix } from '../prefix/compile-prefix.js';
import { createAzureNdjsonLineDecoder, createEventHubsLineDecoder } from '../azure/index.js';
import { createCsvlogDecoder } from '../postgres/csvlog-decoder.js';
import { createJsonlogDecoder } from '../postgres/jsonlog-decoder.js';
import { createStderrDecoder } from '../postgres/stderr-decoder.js';

export const LOG_FORMATS = ['eventhubs', 'azure-ndjson', 'stderr', 'csvlog', 'jsonlog'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface DecoderOptions {
  source: string;
  prefix: CompiledPrefix;
  /** The server name: Azure records name their own unless this overrides it; raw PostgreSQL logs need it. */
  server: string | undefined;
  defaultServer: string;
}

export const DECODERS = {
  eventhubs: (o) => createEventHubsLineDecoder({ source: o.source, prefix: o.prefix, ...(o.server ? { server: o.server } : {}) }),
  'azure-ndjson': (o) => createAzureNdjsonLineDecoder({ source: o.source, prefix: o.prefix, ...(o.server ? { server: o.server } : {}) }),
  stderr: (o) => createStderrDecoder({ prefix: o.prefix, server: o.server ?? o.defaultServer, source: o.source }),
  csvlog: (o) => createCsvlogDecoder({ server: o.server ?? o.defaultServer, source: o.source }),
  jsonlog: (o) => createJsonlogDecoder({ server: o.server ?? o.defaultServer, source: o.source }),
} satisfies Record<LogFormat, (o: DecoderOptions) => LineDecoder<DecodeResult>>;

const CSVLOG_START = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Za-z0-9+-]+,/;

/**
 * Guesses the format from the first non-empty line: JSON shapes by their keys, csvlog by its leading
 * timestamp and comma; anything else is read as stderr with the configured prefix.
 */
export function detectFormat(firstLine: string): LogFormat {
  const line = firstLine.trimStart();
  if (line.startsWith('{')) {
    if (/^\{\s*"records"\s*:/.test(line)) return 'eventhubs';
    if (/"(category|resourceId|operationName)"\s*:/.test(line)) return 'azure-ndjson';
    if (/"error_severity"\s*:/.test(line)) return 'jsonlog';
    return 'eventhubs';
  }
  if (CSVLOG_START.test(line)) return 'csvlog';
  return 'stderr';
}
