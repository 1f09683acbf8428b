import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { resolveDbPath } from '../../config/store-path.js';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { runQuery } from '../../query/run-query.js';
import { closeDatabase, openDatabase } from '../../store/open-database.js';

export const queryCommand = new Command('query')
  .description('run read-only SQL against the store')
  .argument('[sql]', 'the SQL to run')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--file <file>', 'read the SQL from a file')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .action(async (sql: string | undefined, opts: { db?: string; file?: string; format: OutputFormat }) => {
    const text = opts.file ? await readFile(opts.file, 'utf8') : sql;
    if (!text) throw new Error('give the SQL to run, or --file F.sql');
    const db = await openDatabase(resolveDbPath(opts.db), { readOnly: true });
    try {
      const rows = await runQuery(db.connection, text);
      process.stdout.write(FORMATTERS[opts.format](rows));
    } finally {
      await closeDatabase(db);
    }
  });
