/** `npm run bench`: every benchmark, each printing its figures against a baseline measured in the same run. */
import { benchIngest, reportIngest } from './ingest.bench.js';

const records = Number(process.argv[2] ?? process.env.BENCH_RECORDS ?? 500_000);
console.log(`# ingest (${records} records)`);
reportIngest(await benchIngest(records));
