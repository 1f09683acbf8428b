import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { openQueryTarget } from '../../query/query-target.js';
import { rolesAtTime } from '../../query/roles-at-time.js';

export const rolesCommand = new Command('roles')
  .description('the pg_roles of each server as rebuilt from the latest snapshot and the audit trail; --at for any moment in the past')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--server <name>', 'only this server')
  .option('--at <time>', "the state at this time: ISO 8601, or a duration back from now ('2 days')")
  .option('--memberships', 'print the role memberships (pg_auth_members) instead of the roles')
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .action(async (opts: { db?: string; server?: string; at?: string; memberships?: boolean; format: OutputFormat }) => {
    const at = opts.at ? requireTimeOrAgo('--at', opts.at, new Date()) : undefined;
    const target = await openQueryTarget(resolveDbPath(opts.db));
    try {
      const rows = await rolesAtTime(target, { ...(opts.server ? { server: opts.server } : {}), ...(at ? { at } : {}), ...(opts.memberships ? { memberships: true } : {}) });
      process.stdout.write(FORMATTERS[opts.format](rows));
    } finally {
      await target.close();
    }
  });
