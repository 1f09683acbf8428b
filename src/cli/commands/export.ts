import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { EXPORT_TIME_COLUMNS, exportSql, isExportTable } from '../../query/export-tables.js';
import { openQueryTarget } from '../../query/query-target.js';
import { FILE_FORMATS, type FileFormat } from '../../query/read-only-query.js';

export const exportCommand = new Command('export')
  .description('write a time range of a table to Parquet or CSV for other tools (read-only; works while `auditduck run` holds the store)')
  .requiredOption('--table <table>', `one of: ${Object.keys(EXPORT_TIME_COLUMNS).join(', ')}`)
  .option('--since <duration|time>', "start: a duration back from now ('7 days') or an ISO time")
  .option('--until <duration|time>', 'end (exclusive): an ISO time or a duration back from now')
  .addOption(new Option('--format <format>', 'file format').choices([...FILE_FORMATS]).default('parquet'))
  .requiredOption('--output <file>', 'the file to write')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .action(async (opts: { table: string; since?: string; until?: string; format: FileFormat; output: string; db?: string }) => {
    if (!isExportTable(opts.table)) throw new Error(`cannot export "${opts.table}"; the tables are: ${Object.keys(EXPORT_TIME_COLUMNS).join(', ')}`);
    const now = new Date();
    const { sql, params } = exportSql(opts.table, {
      ...(opts.since ? { since: requireTimeOrAgo('--since', opts.since, now).toISOString() } : {}),
      ...(opts.until ? { until: requireTimeOrAgo('--until', opts.until, now).toISOString() } : {}),
    });
    const target = await openQueryTarget(resolveDbPath(opts.db), { outputFile: opts.output });
    try {
      await target.copyTo(sql, params, opts.output, opts.format);
    } finally {
      await target.close();
    }
  });

