/**
 * End-to-end ingest of Event Hubs bodies shaped like Flexible Server's (mostly READ/WRITE audit lines,
 * some role statements, sessions, failed logins) into a file store, against DuckDB's own `read_json`
 * loading the same records into one raw table, measured in the same run.
 * Figures in CPU terms too (issue 21): CPU microseconds per record of the whole process (user + system of every
 * thread: the main one, workers, DuckDB's and V8's) next to records/s, with detection on and off.
 * Targets: >= 150,000 records/s on 2 cores (issue 2); peak RSS < 512 MB however large the input (so the ingest
 * also runs once on LARGE_INPUT_FACTOR times the records); privilege analysis < 10% of throughput (issue 3);
 * detection on >= 0.9x the records/s of the core without it (issue 21).
 * With BENCH_REFERENCE_CLI=<another build's dist/cli/main.js> the same scenarios also run on that build (e.g.
 * main's, built in a scratch checkout), in the same rounds: "today's" figures to compare against, same noise.
 *
 *   npm run bench -- [records]        (default 500000; BENCH_RECORDS also works; BENCH_ROUNDS, default 5)
 * BENCH_DETECTION_ONLY=1 runs only the detection off/on scenarios (of each build), so more rounds fit in the time:
 *   BENCH_DETECTION_ONLY=1 BENCH_ROUNDS=9 node --import tsx bench/ingest.bench.ts [records]
 * BENCH_SIDE_BY_SIDE=1 (with a reference build and BENCH_DETECTION_ONLY=1) runs the two builds' runs of a scenario at the
 * same time, so both see the same load: on a machine whose speed drifts 20% from run to run, the CPU ratio of a pair
 * varies a few percent. Their records/s are those of two processes sharing the cores: compare only the ratios.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeSyntheticBodies } from './generate-bodies.js';

const exec = promisify(execFile);
const TARGET_RECORDS_PER_SECOND = 150_000;
const TARGET_PEAK_RSS_MB = 512;
const TARGET_DETECTION_SHARE = 0.9;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DETECTION_ONLY = process.env.BENCH_DETECTION_ONLY === '1';
const SIDE_BY_SIDE = process.env.BENCH_SIDE_BY_SIDE === '1';
const LARGE_INPUT_FACTOR = 4;
/** As the Dockerfile sets it. */
const IMAGE_MALLOC_ARENA_MAX = '2';
const CLI = 'dist/cli/main.js';

/**
 * Loaded into the measured process: at its exit, the CPU it used (every thread) on stderr. A data: URL so that
 * any build can be measured the same way, with nothing of the bench in it.
 */
const CPU_AT_EXIT = `data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\nbench-cpu-us '+(u.user+u.system)+'\\n')})`;

export interface Row {
  scenario: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** CPU of the whole process (user + system, all threads) per record; null for the in-process baseline. */
  cpuMicrosPerRecord: number | null;
  peakRssMb: number | null;
  /** How many runs the figures come from (their median). */
  runs: number;
  /** Every run's records/s and CPU per record, for the ranges. */
  all: { recordsPerSecond: number; cpuMicrosPerRecord: number | null }[];
}

interface Scenario {
  key: string;
  run: (input: string, db: string, records: number) => Promise<Row>;
}

/** This build runs on the main thread alone with `--workers 1`; a reference build may not know the flag. */
const one = (cli: string): string[] => (cli === CLI ? ['--workers', '1'] : []);

/** What runs each round: the baseline, then each build with detection off and on, and without privilege analysis. */
function scenarios(reference: string | undefined): Scenario[] {
  const builds = [...(reference ? [{ cli: reference, name: "today's auditduck ingest" }] : []), { cli: CLI, name: 'auditduck ingest' }];
  const detection: Scenario[] = builds.flatMap(({ cli, name }) => [
    { key: `${cli} off`, run: (input: string, db: string) => auditduck(cli, `${name}, no detection`, input, db, ['--no-detection', ...one(cli)]) },
    { key: `${cli} on`, run: (input: string, db: string) => auditduck(cli, `${name}, detection on`, input, db, one(cli)) },
  ]);
  if (DETECTION_ONLY) return detection;
  return [
    { key: 'baseline', run: (input, db, records) => baseline(input, db, records) },
    ...detection,
    { key: 'no-analysis', run: (input, db) => auditduck(CLI, 'auditduck ingest, no privilege analysis', input, db, ['--no-detection', '--no-privilege-analysis']) },
    // `--workers 1` is the main thread alone (what the scenarios above run on this 2-core machine, by default).
    { key: 'workers-2 off', run: (input, db) => auditduck(CLI, 'auditduck ingest --workers 2, no detection', input, db, ['--no-detection', '--workers', '2']) },
    { key: 'workers-2 on', run: (input, db) => auditduck(CLI, 'auditduck ingest --workers 2, detection on', input, db, ['--workers', '2']) },
  ];
}

export async function benchIngest(records: number, reference = process.env.BENCH_REFERENCE_CLI): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-'));
  try {
    const input = join(dir, 'hub.jsonl');
    await writeSyntheticBodies(input, records);
    const mb = (await stat(input)).size / 1e6;
    console.log(`input: ${records} records in ${mb.toFixed(0)} MB of Event Hubs bodies (${Math.round((mb * 1e6) / records)} bytes a record)`);

    // Each scenario runs ROUNDS times, interleaved, and reports its median run: on a shared machine one
    // run can be 10-20% off, enough to decide a 10% comparison by noise. The order rotates each round, so
    // no scenario always follows the same one (the baseline leaves the disk busy flushing its file).
    const list = scenarios(reference);
    const runs: Row[][] = list.map(() => []);
    if (SIDE_BY_SIDE) {
      if (!reference || !DETECTION_ONLY) throw new Error('BENCH_SIDE_BY_SIDE=1 needs BENCH_REFERENCE_CLI and BENCH_DETECTION_ONLY=1');
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
          const pair = [list.findIndex((s) => s.key === `${reference} ${mode}`), list.findIndex((s) => s.key === `${CLI} ${mode}`)];
          const rows = await Promise.all(pair.map((which) => once(join(dir, `scenario-${which}.duckdb`), (db) => list[which]!.run(input, db, records))));
          pair.forEach((which, k) => runs[which]!.push(rows[k]!));
        }
      }
      return runs.map(median);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < list.length; k++) {
        const which = (round + k) % list.length;
        runs[which]!.push(await once(join(dir, `scenario-${which}.duckdb`), (db) => list[which]!.run(input, db, records)));
      }
    }
    const rows = runs.map(median);
    if (DETECTION_ONLY) return rows;

    // Memory must not grow with the input: one run on a larger input, for its peak.
    await rm(input);
    const largeInput = join(dir, 'hub-large.jsonl');
    await writeSyntheticBodies(largeInput, records * LARGE_INPUT_FACTOR);
    rows.push(await once(join(dir, 'large.duckdb'), (db) => auditduck(CLI, `auditduck ingest, detection on, ${LARGE_INPUT_FACTOR}× the records`, largeInput, db, [])));
    // The container image sets glibc's MALLOC_ARENA_MAX (Dockerfile): the same run as the image runs it.
    rows.push(
      await once(join(dir, 'large-image.duckdb'), (db) =>
        auditduck(CLI, `auditduck ingest, detection on, ${LARGE_INPUT_FACTOR}× the records, MALLOC_ARENA_MAX=${IMAGE_MALLOC_ARENA_MAX} (the image's)`, largeInput, db, [], {
          MALLOC_ARENA_MAX: IMAGE_MALLOC_ARENA_MAX,
        }),
      ),
    );
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one scenario into a fresh store file, removed after. */
async function once(db: string, run: (db: string) => Promise<Row>): Promise<Row> {
  try {
    return await run(db);
  } finally {
    for (const file of [db, `${db}.wal`]) await rm(file, { force: true });
  }
}

/**
 * The run with the median throughput (of an odd number of runs), with the median CPU per record of all (CPU and
 * wall time need not peak in the same run) and the highest peak RSS of all.
 */
function median(runs: Row[]): Row {
  const middle = [...runs].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond)[Math.floor(runs.length / 2)]!;
  const cpus = runs.map((r) => r.cpuMicrosPerRecord).filter((c) => c !== null).sort((a, b) => a - b);
  const peaks = runs.map((r) => r.peakRssMb).filter((p) => p !== null);
  return {
    ...middle,
    cpuMicrosPerRecord: cpus.length > 0 ? cpus[Math.floor(cpus.length / 2)]! : null,
    peakRssMb: peaks.length > 0 ? Math.max(...peaks) : null,
    runs: runs.length,
    all: runs.flatMap((r) => r.all),
  };
}

/** DuckDB alone: read_json + unnest of the same bodies into one raw table, in this process. */
async function baseline(input: string, db: string, records: number): Promise<Row> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(db);
  const c = await instance.connect();
  await c.run(
    `CREATE TABLE raw AS SELECT unnest(records) AS record
     FROM read_json('${input}', format = 'newline_delimited', columns = {records: 'JSON[]'}, maximum_object_size = 67108864)`,
  );
  const n = Number((await c.runAndReadAll('SELECT count(*) FROM raw')).getRows()[0]![0]);
  c.closeSync();
  instance.closeSync();
  const seconds = (performance.now() - started) / 1000;
  if (n !== records) throw new Error(`baseline loaded ${n} records, expected ${records}`);
  const recordsPerSecond = Math.round(n / seconds);
  return { scenario: 'baseline: DuckDB read_json into one raw table', records: n, seconds, recordsPerSecond, cpuMicrosPerRecord: null, peakRssMb: null, runs: 1, all: [{ recordsPerSecond, cpuMicrosPerRecord: null }] };
}

/** A build's CLI in its own process, so its peak RSS and CPU are its own. */
async function auditduck(cli: string, scenario: string, input: string, db: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<Row> {
  const { stdout, stderr } = await exec(process.execPath, ['--import', CPU_AT_EXIT, cli, 'ingest', '--json', '--db', db, ...flags, input], {
    env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn', ...env },
    maxBuffer: 1 << 20,
  });
  const s = JSON.parse(stdout) as { records: number; seconds: number; recordsPerSecond: number; peakRssMb: number; deadLetters: number };
  if (s.deadLetters > 0) throw new Error(`${scenario}: ${s.deadLetters} dead letters on generated input`);
  const cpu = /bench-cpu-us (\d+)/.exec(stderr);
  if (!cpu) throw new Error(`${scenario}: the process did not report its CPU`);
  const cpuMicrosPerRecord = Number((Number(cpu[1]) / s.records).toFixed(1));
  return { scenario, records: s.records, seconds: s.seconds, recordsPerSecond: s.recordsPerSecond, cpuMicrosPerRecord, peakRssMb: s.peakRssMb, runs: 1, all: [{ recordsPerSecond: s.recordsPerSecond, cpuMicrosPerRecord }] };
}

function range(values: readonly (number | null)[]): string {
  const v = values.filter((x) => x !== null);
  return v.length === 0 ? '' : `${Math.min(...v)}–${Math.max(...v)}`;
}

/** The median of the per-round ratios a / b (rounds are interleaved, so a round's two runs saw the same load). */
function medianRatio(a: readonly (number | null)[], b: readonly (number | null)[]): number {
  const ratios = a.flatMap((x, k) => (x !== null && b[k] ? [x / b[k]!] : [])).sort((p, q) => p - q);
  return ratios[Math.floor(ratios.length / 2)] ?? NaN;
}

/**
 * Detection on against off, of one build: records/s, and CPU per record, which the load of a shared machine moves
 * far less than wall time (off's CPU ÷ on's is the records/s ratio a CPU-bound ingest would reach).
 */
function reportDetection(rows: Row[], name: string): void {
  const find = (start: string) => rows.find((r) => r.scenario.startsWith(start));
  const off = find(`${name}, no detection`);
  const on = find(`${name}, detection on`);
  if (!off || !on) return;
  const share = on.recordsPerSecond / off.recordsPerSecond;
  const cpuShare = off.cpuMicrosPerRecord! / on.cpuMicrosPerRecord!;
  const roundShare = medianRatio(on.all.map((a) => a.recordsPerSecond), off.all.map((a) => a.recordsPerSecond));
  const roundCpuShare = medianRatio(off.all.map((a) => a.cpuMicrosPerRecord), on.all.map((a) => a.cpuMicrosPerRecord));
  const met = (x: number) => (x >= TARGET_DETECTION_SHARE ? 'met' : 'NOT met');
  // Side by side, the runs with detection ran beside another with it, those without beside another without.
  if (SIDE_BY_SIDE) console.log(`${name}: on and off ran beside different loads (side by side); their ratio below is not the sequential one`);
  console.log(
    `${name}, detection on: ${share.toFixed(2)}x the records/s without it (medians; round by round ${roundShare.toFixed(2)}x; target >= ${TARGET_DETECTION_SHARE}: ${met(share)}); ` +
      `in CPU ${cpuShare.toFixed(2)}x (${on.cpuMicrosPerRecord} vs ${off.cpuMicrosPerRecord} µs/record; round by round ${roundCpuShare.toFixed(2)}x: ${met(roundCpuShare)}); ` +
      `detection's own cost ${(on.cpuMicrosPerRecord! - off.cpuMicrosPerRecord!).toFixed(1)} µs/record`,
  );
}

export function reportIngest(rows: Row[]): void {
  const base = rows.find((r) => r.scenario.startsWith('baseline')) ?? null;
  console.table(
    rows.map((r) => ({
      scenario: r.runs > 1 ? `${r.scenario} (median of ${r.runs})` : r.scenario,
      records: r.records,
      seconds: Number(r.seconds.toFixed(2)),
      'records/s': r.recordsPerSecond,
      'records/s range': range(r.all.map((a) => a.recordsPerSecond)),
      ...(base ? { 'x baseline': Number((r.recordsPerSecond / base.recordsPerSecond).toFixed(2)) } : {}),
      'CPU µs/record': r.cpuMicrosPerRecord ?? '',
      'CPU range': range(r.all.map((a) => a.cpuMicrosPerRecord)),
      'peak RSS MB': r.peakRssMb ?? '',
    })),
  );
  reportDetection(rows, "today's auditduck ingest");
  reportDetection(rows, 'auditduck ingest');
  const todayOn = rows.find((r) => r.scenario.startsWith("today's auditduck ingest, detection on"));
  const find = (start: string) => rows.find((r) => r.scenario.startsWith(start))!;
  const on = find('auditduck ingest, detection on');
  if (todayOn?.cpuMicrosPerRecord && on.cpuMicrosPerRecord) {
    const ratio = on.cpuMicrosPerRecord / todayOn.cpuMicrosPerRecord;
    const byRound = medianRatio(on.all.map((a) => a.cpuMicrosPerRecord), todayOn.all.map((a) => a.cpuMicrosPerRecord));
    console.log(
      `CPU per record with detection on: ${ratio.toFixed(2)}x today's (${on.cpuMicrosPerRecord} vs ${todayOn.cpuMicrosPerRecord} µs; ` +
        `${SIDE_BY_SIDE ? 'pair by pair, run side by side' : 'round by round'} ${byRound.toFixed(2)}x; target <= 0.7x): ${ratio <= 0.7 ? 'met' : 'NOT met'}`,
    );
    const todayOff = rows.find((r) => r.scenario.startsWith("today's auditduck ingest, no detection"));
    const off = find('auditduck ingest, no detection');
    if (todayOff && off) {
      const control = medianRatio(off.all.map((a) => a.cpuMicrosPerRecord), todayOff.all.map((a) => a.cpuMicrosPerRecord));
      console.log(`  the same without detection (what the builds share; ${SIDE_BY_SIDE ? 'pair by pair' : 'round by round'}): ${control.toFixed(2)}x`);
    }
  }
  if (!base) return;
  const off = find('auditduck ingest, no detection');
  const noAnalysis = find('auditduck ingest, no privilege analysis');
  const [large, largeAsImage] = rows.slice(-2) as [Row, Row];
  const peak = Math.max(...rows.filter((r) => r !== largeAsImage).map((r) => r.peakRssMb ?? 0));
  const met = (mb: number) => (mb < TARGET_PEAK_RSS_MB ? 'met' : 'NOT met');
  console.log(`target ${TARGET_RECORDS_PER_SECOND} records/s: ${off.recordsPerSecond >= TARGET_RECORDS_PER_SECOND ? 'met' : 'NOT met'} (${off.recordsPerSecond})`);
  console.log(`target peak RSS < ${TARGET_PEAK_RSS_MB} MB at ${on.records} and ${large.records} records: ${met(peak)} (highest ${peak} MB, --workers 2 included)`);
  console.log(`  ${large.records} records, detection on, as the image runs it (MALLOC_ARENA_MAX=${IMAGE_MALLOC_ARENA_MAX}): ${met(largeAsImage.peakRssMb!)} (${largeAsImage.peakRssMb} MB)`);
  const cost = 1 - off.recordsPerSecond / noAnalysis.recordsPerSecond;
  console.log(`privilege analysis costs ${(cost * 100).toFixed(1)}% of throughput (target < 10%): ${cost < 0.1 ? 'met' : 'NOT met'}`);
  for (const detection of ['no detection', 'detection on']) {
    const w1 = find(`auditduck ingest, ${detection}`);
    const w2 = find(`auditduck ingest --workers 2, ${detection}`);
    const speedUp = w2.recordsPerSecond / w1.recordsPerSecond;
    // Amdahl from the 2-thread figure: the share that ran in parallel, spread over 8 cores. An extrapolation, not a measurement.
    const parallel = 2 * (1 - 1 / speedUp);
    const eight = parallel > 0 ? `${(1 / (1 - parallel + parallel / 8)).toFixed(2)}x` : 'none (no speed-up at 2)';
    console.log(
      `--workers 2 vs 1, ${detection}: ${speedUp.toFixed(2)}x the records/s (target >= 1.5x: ${speedUp >= 1.5 ? 'met' : 'NOT met'}); ` +
        `CPU ${w2.cpuMicrosPerRecord} vs ${w1.cpuMicrosPerRecord} µs/record; extrapolated to 8 cores (Amdahl, not measured): ${eight}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.argv[2] ?? process.env.BENCH_RECORDS ?? 100_000);
  reportIngest(await benchIngest(records));
}
