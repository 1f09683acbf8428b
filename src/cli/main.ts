/**
 * The auditduck command line. Commands live one per file in commands/; only this entry point exits.
 */
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import { ingestCommand } from './commands/ingest.js';
import { runCommand } from './commands/run.js';
import { replayCommand } from './commands/replay.js';
import { queryCommand } from './commands/query.js';
import { shellCommand } from './commands/shell.js';
import { backfillCommand } from './commands/backfill.js';
import { exportCommand } from './commands/export.js';
import { snapshotCommand } from './commands/snapshot.js';
import { rolesCommand } from './commands/roles.js';
import { alertsCommand } from './commands/alerts.js';
import { rulesCommand } from './commands/rules.js';
import { serveCommand } from './commands/serve.js';
import { lakeCommand } from './commands/lake.js';
import { routeCommand } from './commands/route.js';

// V8 lets its heap grow to about 4× the live data between full collections. A pipeline that runs for weeks
// wants a bounded footprint more than the last few percent of speed: 2× (docs/configuration.md, Memory).
// A value given on node's own command line wins.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=100');

const program = new Command('auditduck')
  .description('PostgreSQL audit trails (pgaudit, Azure Event Hubs, log files) into DuckDB: privilege analysis, alerts, investigation')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(runCommand)
  .addCommand(replayCommand)
  .addCommand(ingestCommand)
  .addCommand(queryCommand)
  .addCommand(shellCommand)
  .addCommand(backfillCommand)
  .addCommand(exportCommand)
  .addCommand(snapshotCommand)
  .addCommand(rolesCommand)
  .addCommand(alertsCommand)
  .addCommand(rulesCommand)
  .addCommand(serveCommand)
  .addCommand(lakeCommand)
  .addCommand(routeCommand);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`auditduck: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
