import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { openQueryTarget, type QueryTarget } from '../../query/query-target.js';
import { RULE_IDS, SEVERITIES, type Severity } from '../../detect/index.js';
import { EXIT } from '../exit-codes.js';
import { renderRows, withLayoutOptions, writeOutput, type LayoutOptions } from '../output/terminal-output.js';
import { ACK_CLASSIFICATIONS, MAX_ACK_COMMENT_CHARS, type AckClassification } from '../../detect/acknowledge-alerts.js';
import { acknowledgeInStore } from '../acknowledge-target.js';

const STATUSES = ['open', 'acknowledged', 'retracted'] as const;

interface ListOptions extends LayoutOptions {
  db?: string;
  minSeverity?: Severity;
  since?: string;
  format: OutputFormat;
  status?: (typeof STATUSES)[number];
  rule?: string;
  server?: string;
  evidence?: boolean;
  exitCode?: boolean;
}

const ALL_COLUMNS = 'alert_id, status, severity, rule_id, server, first_seen, last_seen, count, actor, target, summary, mitre, acknowledged_at, acknowledged_by, ack_comment, ack_classification';
const TERMINAL_COLUMNS = "alert_id AS id, status, severity, rule_id, server, strftime(last_seen, '%Y-%m-%d %H:%M') AS last_seen, summary";

const ackCommand = new Command('ack')
  .description('acknowledge alerts as the OS user running the command: they stop being delivered and show as acknowledged. ' +
    'While `auditduck run` holds the store, it acknowledges them itself')
  .argument('<alert-ids...>', 'alert ids, as listed by auditduck alerts')
  .option('--comment <text>', `why: stored with each acknowledgement (at most ${MAX_ACK_COMMENT_CHARS} characters; secrets in it are redacted)`)
  .addOption(new Option('--classification <verdict>', 'what the alert turned out to be, stored with the acknowledgement').choices([...ACK_CLASSIFICATIONS]))
  // --db belongs to `alerts` (commander hands it to the parent wherever it is typed).
  .action(async function (this: Command, ids: string[]) {
    const opts = this.optsWithGlobals<{ db?: string; comment?: string; classification?: AckClassification }>();
    const numbers = ids.map((id) => {
      if (!/^\d+$/.test(id)) throw new Error(`"${id}" is not an alert id (a whole number, as auditduck alerts lists them)`);
      return Number(id);
    });
    const comment = opts.comment === undefined ? null : opts.comment.trim();
    if (comment === '') throw new Error('--comment is empty: say why, or leave --comment out');
    if (comment !== null && comment.length > MAX_ACK_COMMENT_CHARS) throw new Error(`--comment is ${comment.length} characters; at most ${MAX_ACK_COMMENT_CHARS}`);
    // Who ran the command, as the OS knows it: $USER or a flag would let anyone sign as anyone.
    const { acknowledged, throughPid } = await acknowledgeInStore(resolveDbPath(opts.db), { ids: numbers, by: userInfo().username, comment, classification: opts.classification ?? null });
    const done = new Set(acknowledged);
    const missed = numbers.filter((id) => !done.has(id));
    const through = throughPid === null ? '' : ` (through \`auditduck run\`, process ${throughPid})`;
    process.stdout.write(`acknowledged ${done.size} alert(s)${done.size ? `: ${[...done].join(', ')}` : ''}${through}\n`);
    if (missed.length > 0) process.stderr.write(`not open or not found: ${missed.join(', ')}\n`);
  });

export const alertsCommand = withLayoutOptions(new Command('alerts'))
  .description('list alerts (newest first); `alerts ack ID...` acknowledges them. Exits 0, or 1 on an error')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--since <time>', 'only alerts seen since this time or this long ago (ISO 8601, or 24h, 7d…)')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .addOption(new Option('--status <status>', 'only alerts in this status').choices([...STATUSES]))
  .option('--rule <id>', 'only alerts of this rule (auditduck rules list)')
  .option('--server <name>', 'only alerts of this server')
  .addOption(new Option('--min-severity <severity>', 'only alerts of this severity or higher').choices([...SEVERITIES]))
  .option('--evidence', 'include the evidence column (JSON)')
  .option('--exit-code', `exit ${EXIT.alertsFound} when any alert is listed, 0 when none (for cron and CI)`)
  .addCommand(ackCommand)
  .action(async (opts: ListOptions) => {
    const since = opts.since ? requireTimeOrAgo('--since', opts.since, new Date()).toISOString() : null;
    const where = [
      since ? `last_seen >= $since::TIMESTAMPTZ` : null,
      opts.status ? `status = $status` : null,
      opts.rule ? `rule_id = $rule` : null,
      opts.server ? `server = $server` : null,
      opts.minSeverity ? `severity IN (${SEVERITIES.slice(SEVERITIES.indexOf(opts.minSeverity)).map((sev) => `'${sev}'`).join(', ')})` : null,
    ].filter((w) => w !== null);
    const params: Record<string, string> = {};
    if (since) params.since = since;
    if (opts.status) params.status = opts.status;
    if (opts.rule) params.rule = opts.rule;
    if (opts.server) params.server = opts.server;
    // A table at a terminal shows what tells one alert from another; --wide, -x, CSV and JSON show every column.
    const columns = opts.format === 'table' && !opts.wide && !opts.expanded ? TERMINAL_COLUMNS : ALL_COLUMNS;
    const sql = `SELECT ${columns}${opts.evidence ? ', evidence' : ''}
      FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_seen DESC, alert_id DESC`;
    const target = await openQueryTarget(resolveDbPath(opts.db));
    try {
      await refuseUnknownFilters(target, opts);
      const rows = await target.run(sql, params);
      await writeOutput(renderRows(opts.format, rows, opts));
      // Opt-in, as `git diff --exit-code`: scripts that list alerts rely on 0 for success.
      if (opts.exitCode && rows.rows.length > 0) process.exitCode = EXIT.alertsFound;
    } finally {
      await target.close();
    }
  });

/** A mistyped --rule or --server would list nothing and exit 0 — "no alerts" — which is the one wrong answer. */
async function refuseUnknownFilters(target: QueryTarget, opts: ListOptions): Promise<void> {
  if (opts.rule) {
    const stored = (await target.run('SELECT DISTINCT rule_id FROM alerts')).rows.map((r) => String(r.rule_id));
    const known = [...new Set<string>([...RULE_IDS, ...stored])].sort();
    if (!known.includes(opts.rule)) throw new Error(`unknown rule "${opts.rule}"; the rules are: ${known.join(', ')} (auditduck rules list)`);
  }
  if (opts.server) {
    const known = (await target.run('SELECT server FROM sessions UNION SELECT server FROM alerts UNION SELECT server FROM roles ORDER BY 1')).rows.map((r) => String(r.server));
    if (!known.includes(opts.server)) throw new Error(`unknown server "${opts.server}"; the store knows: ${known.length ? known.join(', ') : 'no server yet'}`);
  }
}
