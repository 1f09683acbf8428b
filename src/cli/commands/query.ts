import { readFile, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { renderRows, withLayoutOptions, writeOutput, type LayoutOptions } from '../output/terminal-output.js';
import { openReadTarget, withLakeOptions } from '../read-target.js';
import type { QueryParams } from '../../query/read-only-query.js';
import { loadSavedQueries, parseParamAssignments, resolveParams } from '../../query/saved-queries.js';

const QUERY_FORMATS = [...OUTPUT_FORMATS, 'parquet'] as const;
type QueryFormat = (typeof QUERY_FORMATS)[number];

interface QueryOptions extends LayoutOptions {
  db?: string;
  file?: string;
  format: QueryFormat;
  output?: string;
  param: string[];
  list?: boolean;
  fleet: string[];
  lake?: string;
  config?: string;
}

/** A saved query's name: what `[sql]` is when it names a file in queries/ rather than holding SQL. */
const SAVED_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

export const queryCommand = withLakeOptions(withLayoutOptions(new Command('query')))
  .description('run read-only SQL, a .sql file or a saved query (queries/) against the store; while `auditduck run` holds the store, through its query API')
  .argument('[sql]', 'SQL to run, or the name of a saved query')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--file <file>', 'read the SQL from a file')
  .option('--param <name=value>', 'a parameter ($name in the SQL); repeat for more', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .addOption(new Option('--format <format>', 'output format').choices([...QUERY_FORMATS]).default('table'))
  .option('--output <file>', 'write to this file (required for parquet)')
  .option('--list', 'list the saved queries and their parameters')
  .option(
    '--fleet <db>',
    "a store of the fleet, or a peer's query API URL (https://HOST:PORT, with $AUDITDUCK_QUERY_API_TOKEN); repeat for each instance: runs the SQL over all of them, one copy per (source, position) (docs/fleet.md)",
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .action(async (sqlOrName: string | undefined, opts: QueryOptions) => {
    if (opts.list) return void process.stdout.write(renderSavedList());
    const { sql, params } = await resolveInput(sqlOrName, opts);
    if (opts.fleet.length > 0 && opts.lake) throw new Error('give either --fleet (the stores of the fleet) or --lake (the lake), not both');
    if (opts.fleet.length > 0) return runOverFleet(sql, params, opts);
    const targetOptions = opts.format === 'parquet' && opts.output ? { outputFile: opts.output } : {};
    const target = await openReadTarget(opts, targetOptions);
    try {
      if (opts.format === 'parquet') {
        if (!opts.output) throw new Error('--format parquet writes a file: give --output FILE.parquet');
        await target.copyTo(sql, params, opts.output, 'parquet');
        return;
      }
      const rows = await target.run(sql, params);
      // A file keeps every character: the terminal's width is no concern of it.
      if (opts.output) await writeFile(opts.output, FORMATTERS[opts.format satisfies OutputFormat](rows, { expanded: opts.expanded === true }));
      else await writeOutput(renderRows(opts.format, rows, opts));
    } finally {
      await target.close();
    }
  });

async function runOverFleet(sql: string, params: QueryParams, opts: QueryOptions): Promise<void> {
  if (opts.db) throw new Error('give either --db (one store) or --fleet (each store of the fleet), not both');
  if (opts.format === 'parquet') throw new Error('--fleet prints its result: use --format table, csv or json');
  const { fleetMembers, runFleetQuery } = await import('../../query/fleet-query.js');
  const rows = await runFleetQuery(fleetMembers(opts.fleet), sql, params);
  if (opts.output) await writeFile(opts.output, FORMATTERS[opts.format satisfies OutputFormat](rows, { expanded: opts.expanded === true }));
  else await writeOutput(renderRows(opts.format, rows, opts));
}

async function resolveInput(sqlOrName: string | undefined, opts: QueryOptions): Promise<{ sql: string; params: QueryParams }> {
  const given = parseParamAssignments(opts.param);
  if (opts.file) {
    if (sqlOrName) throw new Error('give either SQL or --file, not both');
    return { sql: await readFile(opts.file, 'utf8'), params: given };
  }
  if (!sqlOrName) throw new Error('give the SQL to run, --file F.sql, or a saved query name (auditduck query --list shows them)');
  if (SAVED_NAME.test(sqlOrName.trim())) {
    const saved = loadSavedQueries().find((q) => q.name === sqlOrName.trim());
    if (!saved) throw new Error(`"${sqlOrName}" is neither SQL nor a saved query; auditduck query --list shows the saved queries`);
    return { sql: saved.sql, params: resolveParams(saved, given) };
  }
  return { sql: sqlOrName, params: given };
}

function renderSavedList(): string {
  return loadSavedQueries()
    .map((q) => {
      const params = q.params.map((p) => `    --param ${p.name}=${p.defaultValue === undefined ? '<required>' : p.defaultValue === null ? 'null' : p.defaultValue}  ${p.description}`);
      return [`${q.name}\n    ${q.description}`, ...params].join('\n');
    })
    .join('\n\n') + '\n';
}
