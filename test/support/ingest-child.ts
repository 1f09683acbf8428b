/**
 * `ingestFiles` in a process of its own, for tests that kill it: `node --import tsx test/support/ingest-child.ts
 * '<json options>' PATH...`. Logs at debug level, as JSON lines on stderr (what the test watches for).
 */
import { pino } from 'pino';
import { ingestFiles, type IngestFilesOptions } from '../../src/pipeline/ingest-files.js';

const options = JSON.parse(process.argv[2]!) as Omit<IngestFilesOptions, 'log'>;
await ingestFiles(process.argv.slice(3), { ...options, log: pino({ level: 'debug' }, pino.destination(2)) });
