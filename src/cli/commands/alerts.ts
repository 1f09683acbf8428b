import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../config/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { assertStoreExists, openQueryTarget } from '../../query/query-target.js';
import { acknowledgeAlerts } from '../../detect/acknowledge-alerts.js';
import { closeDatabase, openDatabase } from '../../store/open-database.js';

const STATUSES = ['open', 'acknowledged', 'retracted'] as const;

interface ListOptions {
  db?: string;
  since?: string;
  format: OutputFormat;
  status?: (typeof STATUSES)[number];
  rule?: string;
  server?: string;
  evidence?: boolean;
}

const ackCommand = new Command('ack')
  .description('acknowledge alerts: they stop being delivered and show as acknowledged (needs write access to the store)')
  .argument('<alert-ids...>', 'alert ids, as listed by auditduck alerts')
  .option('--by <name>', 'who acknowledges (default: $USER)')
  // --db belongs to `alerts` (commander hands it to the parent wherever it is typed).
  .action(async function (this: Command, ids: string[]) {
    const opts = this.optsWithGlobals<{ db?: string; by?: string }>();
    const numbers = ids.map((id) => {
      if (!/^\d+$/.test(id)) throw new Error(`"${id}" is not an alert id (a whole number, as auditduck alerts lists them)`);
      return id;
    });
    const dbPath = resolveDbPath(opts.db);
    assertStoreExists(dbPath);
    let db;
    try {
      db = await openDatabase(dbPath);
    } catch (error) {
      if (/lock|another process/i.test((error as Error).message)) {
        throw new Error(`cannot acknowledge: ${dbPath} is held by another process (usually 'auditduck run'). Acknowledge in its web UI (the alerts dashboard), or stop it, acknowledge, and start it again; listing works while it runs.`);
      }
      throw error;
    }
    try {
      const acknowledged = await acknowledgeAlerts(db.connection, numbers.map(Number), opts.by ?? process.env.USER ?? 'unknown');
      const done = new Set(acknowledged.map(String));
      const missed = numbers.filter((id) => !done.has(id));
      process.stdout.write(`acknowledged ${done.size} alert(s)${done.size ? `: ${[...done].join(', ')}` : ''}\n`);
      if (missed.length > 0) process.stderr.write(`not open or not found: ${missed.join(', ')}\n`);
    } finally {
      await closeDatabase(db);
    }
  });

export const alertsCommand = new Command('alerts')
  .description('list alerts (newest first); `alerts ack ID...` acknowledges them')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--since <time>', 'only alerts seen since this time or this long ago (ISO 8601, or 24h, 7d…)')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .addOption(new Option('--status <status>', 'only alerts in this status').choices([...STATUSES]))
  .option('--rule <id>', 'only alerts of this rule (auditduck rules list)')
  .option('--server <name>', 'only alerts of this server')
  .option('--evidence', 'include the evidence column (JSON)')
  .addCommand(ackCommand)
  .action(async (opts: ListOptions) => {
    const since = opts.since ? requireTimeOrAgo('--since', opts.since, new Date()).toISOString() : null;
    const where = [
      since ? `last_seen >= $since::TIMESTAMPTZ` : null,
      opts.status ? `status = $status` : null,
      opts.rule ? `rule_id = $rule` : null,
      opts.server ? `server = $server` : null,
    ].filter((w) => w !== null);
    const params: Record<string, string> = {};
    if (since) params.since = since;
    if (opts.status) params.status = opts.status;
    if (opts.rule) params.rule = opts.rule;
    if (opts.server) params.server = opts.server;
    const sql = `SELECT alert_id, status, severity, rule_id, server, first_seen, last_seen, count, actor, target, summary, mitre${opts.evidence ? ', evidence' : ''}
      FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen DESC, alert_id DESC`;
    const target = await openQueryTarget(resolveDbPath(opts.db));
    try {
      process.stdout.write(FORMATTERS[opts.format](await target.run(sql, params)));
    } finally {
      await target.close();
    }
  });
