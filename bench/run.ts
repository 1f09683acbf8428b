/**
 * `npm run bench`: every benchmark, each printing its figures against a baseline measured in the same run.
 *   npm run bench -- [ingest records]     (default 500000; BENCH_RECORDS also works)
 * The others run as their own processes so one's memory does not weigh on the next.
 */
import { spawnSync } from 'node:child_process';
import { benchIngest, reportIngest } from './ingest.bench.js';

const records = Number(process.argv[2] ?? process.env.BENCH_RECORDS ?? 500_000);
console.log(`# ingest (${records} records)`);
reportIngest(await benchIngest(records));

for (const [title, file] of [
  ['redaction', 'bench/redact-secrets.bench.ts'],
  ['saved queries on 10 million audit events', 'bench/saved-queries.bench.ts'],
  ['alert latency at 10,000 records/s', 'bench/alert-latency.bench.ts'],
  ['run from Event Hubs, one instance, next to ingest', 'bench/fleet-run.bench.ts'],
  ['lake export', 'bench/lake-export.bench.ts'],
  ['lake export as the store ages', 'bench/lake-age.bench.ts'],
  ['reading an old lake', 'bench/lake-read.bench.ts'],
] as const) {
  console.log(`\n# ${title}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (run.status !== 0) process.exitCode = 1;
}
