import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveDbPath } from '../../config/store-path.js';
import { LOG_FORMATS, type LogFormat } from '../../decode/formats/log-formats.js';
import { createLogger } from '../../logging/logger.js';
import { AZURE_LOG_LINE_PREFIX, validatePrefix } from '../../decode/prefix/compile-prefix.js';
import { ingestFiles } from '../../pipeline/ingest-files.js';
import { loadRunConfig } from '../../config/run-config.js';
import { createDetector } from '../../detect/index.js';
import { EXIT } from '../exit-codes.js';
import { exportStoreToLake } from '../../lake/index.js';
import { createIngestProgressLine } from '../ingest-progress.js';

export const ingestCommand = new Command('ingest')
  .description('read log files (plain or gzip) or stdin into the store; a file already read is resumed, never read twice')
  .argument('<paths...>', 'files to read, or - for stdin')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .addOption(new Option('--format <format>', 'input format').choices(['auto', ...LOG_FORMATS]).default('auto'))
  .option('--log-line-prefix <prefix>', "the server's log_line_prefix", AZURE_LOG_LINE_PREFIX)
  .option('--server <name>', 'server name (Azure records carry their own; raw PostgreSQL logs default to "local")')
  .option('--source-id <id>', 'names the stream on stdin (-) so that sending it again reads on after what was stored, never twice')
  .option('--json', 'print the summary as JSON')
  .option('--config <file>', "a run configuration file: its `detection` section tunes the rules (default: Azure's maintenance traffic excluded)")
  .option('--no-detection', 'store only: run no detection rules (alerts come from `auditduck run` or a later ingest)')
  .option('--no-privilege-analysis', 'skip the role/grant/password analysis (to measure its cost)')
  .option('--lake <dirOrUrl>', 'then export what the store committed to this lake (default $AUDITDUCK_LAKE, or `lake` of --config)')
  .option('--workers <n>', 'threads that read, decode and parse plain files in ranges; 1: the main thread alone (default 1; docs/ingest.md)', (v) => parsePositive(v), 1)
  .option('--batch-records <n>', 'records per committed batch (memory vs. commit overhead)', (v) => parsePositive(v), 50_000)
  .action(async (paths: string[], opts: { db?: string; format: string; logLinePrefix: string; server?: string; sourceId?: string; json?: boolean; batchRecords: number; workers: number; privilegeAnalysis: boolean; detection: boolean; config?: string; lake?: string }) => {
    if (opts.sourceId !== undefined && !paths.includes('-')) throw new Error('--source-id names the stream on stdin: give - among the paths, or leave it out (files are known by their content)');
    if (opts.sourceId !== undefined && opts.sourceId.trim() === '') throw new Error('--source-id needs a name, e.g. --source-id pg-prod-2026-11');
    const log = createLogger();
    // The rules stand on the privilege analysis: without it they would see no changes.
    const fileConfig = await loadRunConfig(opts.config, {});
    const observers = opts.detection && opts.privilegeAnalysis ? [createDetector(fileConfig.detection)] : [];
    const lake = opts.lake ?? process.env.AUDITDUCK_LAKE ?? fileConfig.lake;
    // Azure records bring their own millisecond times and the default prefix is known to lack %u/%d: only a custom prefix is worth a warning.
    if (opts.logLinePrefix !== AZURE_LOG_LINE_PREFIX) for (const warning of validatePrefix(opts.logLinePrefix)) log.warn({ prefix: opts.logLinePrefix }, warning);
    const progress = createIngestProgressLine();
    // Every batch commits with its position, so stopping between two is safe: say where, and exit as a shell expects.
    const onInterrupt = () => {
      progress.end();
      process.stderr.write(`auditduck: ${progress.interruptedMessage()}\n`);
      process.exit(EXIT.interrupted);
    };
    process.once('SIGINT', onInterrupt);
    const summary = await ingestFiles(paths, {
      dbPath: resolveDbPath(opts.db),
      format: opts.format as LogFormat | 'auto',
      logLinePrefix: opts.logLinePrefix,
      ...(opts.server ? { server: opts.server } : {}),
      log,
      batchRecords: opts.batchRecords,
      ...(opts.sourceId !== undefined ? { stdinSourceId: opts.sourceId } : {}),
      analyzePrivileges: opts.privilegeAnalysis,
      observers,
      workers: workerThreads(opts.workers),
      workerDetection: observers.length > 0 ? fileConfig.detection : null,
      onCommitted: (p) => progress.update(p),
    }).finally(() => {
      progress.end();
      process.off('SIGINT', onInterrupt);
    });
    // After the summary's numbers are final: the rows are stored whatever becomes of the export.
    if (lake) {
      const exported = await exportStoreToLake(resolveDbPath(opts.db), lake, log);
      log.info({ lake: exported.lake, segments: exported.publishedSegments }, 'exported to the lake');
    }
    const result = summary.toJSON();
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(renderSummary(result));
    if (summary.deadLetters > 0) log.warn({ deadLetters: summary.deadLetters }, 'some input could not be read: see the dead_letters table');
    if (nothingParsed(summary)) {
      process.stderr.write(
        `auditduck: nothing was parsed: ${summary.deadLetters} line(s) went to dead_letters with the reason. ` +
          'Check --format and --log-line-prefix against the input (docs/log-formats.md).\n',
      );
      process.exitCode = EXIT.nothingParsed;
    }
  });

/** Input was there but not one record came of it; an empty input, or one already read, is not this. */
function nothingParsed(s: { records: number; deadLetters: number }): boolean {
  return s.records === 0 && s.deadLetters > 0;
}

function renderSummary(s: Record<string, unknown>): string {
  const lines = [
    ['records', s.records],
    ['audit events', s.auditEvents],
    ['session updates', s.sessionUpdates],
    ['auth failures', s.authFailures],
    ['privilege changes', s.privilegeChanges],
    ['control-plane events', s.controlPlaneEvents],
    ['dead letters', s.deadLetters],
    ['skipped (other categories)', s.skipped],
    ['attributed late', s.lateAttributed],
    ['seconds', s.seconds],
    ['records/s', s.recordsPerSecond],
    ['peak RSS (MB)', s.peakRssMb],
  ];
  return lines.map(([k, v]) => `${String(k).padEnd(28)}${String(v)}`).join('\n') + '\n';
}

/** One worker is the main thread itself; more are that many threads, the main thread folding in what they gather. */
function workerThreads(workers: number): number {
  return workers > 1 ? workers : 0;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a whole number above 0');
  return n;
}
