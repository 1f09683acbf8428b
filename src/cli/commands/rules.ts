import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { LOG_FORMATS, type LogFormat } from '../../decode/formats/log-formats.js';
import { createDetector, RULE_IDS } from '../../detect/index.js';
import { ruleRows } from '../../detect/rule-table.js';
import { createLogger } from '../../logging/logger.js';
import { AZURE_LOG_LINE_PREFIX } from '../../decode/prefix/compile-prefix.js';
import { ingestFiles } from '../../pipeline/ingest-files.js';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { runQuery } from '../../query/run-query.js';
import { renderRows, withLayoutOptions, writeOutput, type LayoutOptions } from '../output/terminal-output.js';
import { closeDatabase, openDatabase } from '../../store/open-database.js';

const listCommand = withLayoutOptions(new Command('list'))
  .description('the built-in detection rules')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .action(async (opts: LayoutOptions & { format: OutputFormat }) => {
    await writeOutput(renderRows(opts.format, { columns: ['id', 'title', 'severity', 'mitre', 'default', 'kind', 'trigger'], rows: ruleRows().map((r) => ({ ...r })) }, opts));
  });

interface TestOptions {
  inputFormat: string;
  logLinePrefix: string;
  server?: string;
  format: OutputFormat;
  exclusions: boolean;
  now?: string;
}

const testCommand = new Command('test')
  .description('run one rule over log files in a temporary store and print the alerts it raises')
  .argument('<rule-id>', 'the rule (auditduck rules list)')
  .argument('<files...>', 'log files in any format auditduck ingest reads')
  .addOption(new Option('--input-format <format>', 'input format').choices(['auto', ...LOG_FORMATS]).default('auto'))
  .option('--log-line-prefix <prefix>', "the server's log_line_prefix", AZURE_LOG_LINE_PREFIX)
  .option('--server <name>', 'server name for raw PostgreSQL logs')
  .option('--no-exclusions', "also look at Azure's maintenance traffic (user azuresu, database azure_maintenance)")
  .option('--now <time>', 'the time scheduled rules run at (default: now)')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .action(async (ruleId: string, files: string[], opts: TestOptions) => {
    if (!(RULE_IDS as readonly string[]).includes(ruleId)) throw new Error(`no rule "${ruleId}"; auditduck rules list shows the rules`);
    const detector = createDetector(opts.exclusions ? {} : { exclude: { users: [], databases: [], applications: [], clientAddrs: [] } }, { only: [ruleId] });
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-rule-test-'));
    const dbPath = join(dir, 'rule-test.duckdb');
    try {
      await ingestFiles(files, {
        dbPath,
        format: opts.inputFormat as LogFormat | 'auto',
        logLinePrefix: opts.logLinePrefix,
        ...(opts.server ? { server: opts.server } : {}),
        log: createLogger({ level: 'warn' }),
        observers: [detector],
      });
      const db = await openDatabase(dbPath);
      try {
        await detector.runScheduledRules(db.connection, opts.now ? requireTimeOrAgo('--now', opts.now, new Date()) : new Date());
        const rows = await runQuery(
          db.connection,
          `SELECT alert_id, status, severity, rule_id, server, first_seen, last_seen, count, actor, target, summary, evidence FROM alerts ORDER BY alert_id`,
        );
        process.stdout.write(FORMATTERS[opts.format](rows));
      } finally {
        await closeDatabase(db);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

export const rulesCommand = new Command('rules').description('the detection rules: list them, or test one against log files').addCommand(listCommand).addCommand(testCommand);
