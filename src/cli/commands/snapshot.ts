import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveDbPath } from '../../config/store-path.js';
import { createLogger } from '../../logging/logger.js';
import { closeDatabase, openDatabase } from '../../store/open-database.js';
import { describeDrift, evaluateDrift } from '../../snapshot/evaluate-drift.js';
import { loadSnapshotConfig } from '../../snapshot/load-snapshot-config.js';
import type { SnapshotResult } from '../../snapshot/take-snapshot.js';

interface SnapshotOptions {
  db?: string;
  config: string;
  server?: string;
  retries: number;
  format: 'table' | 'json';
}

export const snapshotCommand = new Command('snapshot')
  .description("read pg_roles, pg_auth_members and the security settings of watched servers into the store, then report drift (changes the audit trail does not explain) and posture findings")
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--config <file>', 'configuration file (JSON) with a "snapshots" section', process.env.AUDITDUCK_CONFIG ?? 'auditduck.config.json')
  .option('--server <name>', 'only this watched server')
  .option('--retries <n>', 'retries of a failed connection, with backoff', (v) => parseCount(v), 2)
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(async (opts: SnapshotOptions) => {
    const log = createLogger();
    // The PostgreSQL client loads with the command that uses it, not with every command.
    const [{ passwordFor, ServerConnectError }, { takeSnapshot }] = await Promise.all([import('../../snapshot/server-connection.js'), import('../../snapshot/take-snapshot.js')]);
    const config = await loadSnapshotConfig(opts.config);
    const servers = config.servers.filter((s) => !opts.server || s.name === opts.server);
    if (servers.length === 0) {
      throw new Error(opts.server ? `no watched server named "${opts.server}" in ${opts.config}` : `no watched servers in ${opts.config}: add them under "snapshots": { "servers": [...] }`);
    }
    const db = await openDatabase(resolveDbPath(opts.db));
    const taken: SnapshotResult[] = [];
    const failed: { server: string; reason: string }[] = [];
    try {
      for (const server of servers) {
        const password = passwordFor(server);
        for (let attempt = 0; ; attempt++) {
          try {
            taken.push(await takeSnapshot(server, { connection: db.connection, password, passwordMaxAgeDays: config.passwordMaxAgeDays }));
            break;
          } catch (error) {
            const reason = error instanceof ServerConnectError ? error.reason : (error as Error).message;
            if (attempt >= opts.retries) {
              failed.push({ server: server.name, reason });
              break;
            }
            const delay = 1_000 * 2 ** attempt;
            log.warn({ server: server.name, reason, retryInMs: delay }, `snapshot of ${server.name} failed, retrying`);
            await new Promise((r) => setTimeout(r, delay));
          }
        }
      }
      const windows = await evaluateDrift(db.connection, { servers: servers.map((s) => s.name) });
      const report = {
        snapshots: taken.map((t) => ({ server: t.server, snapshot_id: t.snapshotId, taken_at: t.takenAt.toISOString(), roles: t.roles, memberships: t.memberships, unreadable: t.unreadable, findings: t.findings })),
        drift: windows.flatMap((w) => w.drift.map((d) => ({ ...d, window_start: d.window_start.toISOString(), window_end: d.window_end.toISOString() }))),
        waiting: windows.filter((w) => w.status === 'waiting-for-trail').map((w) => ({ server: w.server, window_end: w.to.takenAt.toISOString(), trail_reaches_to: w.trailReachesTo?.toISOString() ?? null })),
        failed,
      };
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(renderReport(report, windows.flatMap((w) => w.drift).map(describeDrift)));
    } finally {
      await closeDatabase(db);
    }
    if (failed.length > 0) {
      throw new Error(failed.map((f) => `cannot snapshot ${f.server}: ${f.reason}`).join('\n'));
    }
  });

function renderReport(
  r: { snapshots: { server: string; taken_at: string; roles: number; memberships: number; unreadable: string[]; findings: { severity: string; summary: string }[] }[]; waiting: { server: string; window_end: string; trail_reaches_to: string | null }[] },
  drift: string[],
): string {
  const lines: string[] = [];
  for (const s of r.snapshots) {
    lines.push(`${s.server}: snapshot at ${s.taken_at}: ${s.roles} roles, ${s.memberships} memberships${s.unreadable.length ? ` (not readable: ${s.unreadable.join(', ')})` : ''}`);
    for (const f of s.findings) lines.push(`  posture [${f.severity}] ${f.summary}`);
  }
  for (const d of drift) lines.push(`DRIFT (change not in the audit trail): ${d}`);
  for (const w of r.waiting) lines.push(`${w.server}: drift up to ${w.window_end} waits for the trail (stored up to ${w.trail_reaches_to ?? 'nothing yet'}): ingest its logs, then run snapshot again`);
  return `${lines.join('\n')}\n`;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}
