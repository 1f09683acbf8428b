import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { describeLake, openLakeStorage, parseLakeLocation, verifyLake } from '../../lake/index.js';
import { closeDatabase, openDatabase } from '../../store/open-database.js';
import { EXIT } from '../exit-codes.js';

/** The lake to use: --lake, else AUDITDUCK_LAKE; `what` names the command for the error. */
export function resolveLake(given: string | undefined, what: string): string {
  const lake = given ?? process.env.AUDITDUCK_LAKE;
  if (!lake) throw new Error(`${what} needs the lake: give --lake DIR_OR_URL or set AUDITDUCK_LAKE (docs/lake.md)`);
  return lake;
}

const verifyCommand = new Command('verify')
  .description('check that the lake is complete and intact: exits 0 when so, 5 naming each bad segment when not')
  .option('--lake <dirOrUrl>', 'the lake: a directory or https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix (default $AUDITDUCK_LAKE)')
  .option('--db <file>', 'also check that every segment this store published is in the lake as published')
  .option('--json', 'print the result as JSON')
  .action(async (opts: { lake?: string; db?: string; json?: boolean }) => {
    const lakeText = resolveLake(opts.lake, 'lake verify');
    const lake = await openLakeStorage(parseLakeLocation(lakeText));
    const expected = opts.db ? await publishedSegments(opts.db) : undefined;
    const result = await verifyLake(lake, expected ? { expected } : {});
    const summary = { lake: describeLake(lakeText), segments: result.segments, files: result.files, rows: result.rows, problems: result.problems };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else if (result.problems.length === 0) process.stdout.write(`lake ${summary.lake}: ${result.segments} segments, ${result.files} files, ${result.rows} rows; complete and intact\n`);
    if (result.problems.length > 0) {
      for (const p of result.problems) process.stderr.write(`auditduck: bad segment ${p.segment}: ${p.problem}\n`);
      process.stderr.write(`auditduck: the lake ${summary.lake} is not intact (${result.problems.length} problems)\n`);
      process.exitCode = EXIT.lakeDamaged;
    }
  });

async function publishedSegments(dbPath: string): Promise<Map<number, string>> {
  if (!existsSync(dbPath)) throw new Error(`no store at ${dbPath}`);
  const db = await openDatabase(dbPath, { readOnly: true });
  try {
    const rows = (await db.connection.runAndReadAll(`SELECT seq, entry_hash FROM lake_segments WHERE state = 'published'`)).getRows();
    return new Map(rows.map(([seq, hash]) => [Number(seq), String(hash)]));
  } finally {
    await closeDatabase(db);
  }
}

export const lakeCommand = new Command('lake').description('the audit lake: Parquet copies of every committed row (docs/lake.md)').addCommand(verifyCommand);
