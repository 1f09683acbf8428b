import { stat, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { EXPORT_TIME_COLUMNS, exportSql, isExportTable } from '../../query/export-tables.js';
import { FORMATTERS } from '../../query/format-rows.js';
import { EXPORT_FORMATS, exportFormat, type ExportFormat } from '../export-target.js';
import { formatBytes } from '../ingest-progress.js';
import { openReadTarget, withLakeOptions, type ReadTargetOptions } from '../read-target.js';

export const exportCommand = withLakeOptions(new Command('export'))
  .description('write a time range of a table to Parquet, CSV or JSON for other tools (read-only; works while `auditduck run` holds the store)')
  .requiredOption('--table <table>', `one of: ${Object.keys(EXPORT_TIME_COLUMNS).join(', ')}`)
  .option('--since <duration|time>', "start: a duration back from now ('7 days') or an ISO time")
  .option('--until <duration|time>', 'end (exclusive): an ISO time or a duration back from now')
  .addOption(new Option('--format <format>', 'file format (default: from the extension of --output; csv for -)').choices([...EXPORT_FORMATS]))
  .requiredOption('--output <file>', 'the file to write (.parquet, .csv, .json), or - for stdout (CSV or JSON)')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .action(async (opts: ReadTargetOptions & { table: string; since?: string; until?: string; format?: ExportFormat; output: string }) => {
    if (!isExportTable(opts.table)) throw new Error(`cannot export "${opts.table}"; the tables are: ${Object.keys(EXPORT_TIME_COLUMNS).join(', ')}`);
    const format = exportFormat(opts.output, opts.format);
    const now = new Date();
    const { sql, params } = exportSql(opts.table, {
      ...(opts.since ? { since: requireTimeOrAgo('--since', opts.since, now).toISOString() } : {}),
      ...(opts.until ? { until: requireTimeOrAgo('--until', opts.until, now).toISOString() } : {}),
    });
    // DuckDB's COPY writes Parquet and CSV files itself; JSON and stdout go through the rows.
    const copies = format === 'parquet' || (format === 'csv' && opts.output !== '-');
    const target = await openReadTarget(opts, copies ? { outputFile: opts.output } : {});
    try {
      if (copies) {
        await target.copyTo(sql, params, opts.output, format);
        process.stderr.write(`wrote ${opts.table} to ${opts.output} (${format}, ${formatBytes((await stat(opts.output)).size)})\n`);
        return;
      }
      const rows = await target.run(sql, params);
      const text = FORMATTERS[format](rows);
      if (opts.output === '-') process.stdout.write(text);
      else await writeFile(opts.output, text);
      process.stderr.write(`wrote ${rows.rows.length} row(s) of ${opts.table} to ${opts.output === '-' ? 'stdout' : opts.output} (${format})\n`);
    } finally {
      await target.close();
    }
  });
