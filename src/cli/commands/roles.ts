import { Command, Option } from 'commander';
import { requireTimeOrAgo } from '../../contracts/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import { openQueryTarget } from '../../query/query-target.js';
import { rolesAtTime } from '../../query/roles-at-time.js';
import { summarizeRoles } from '../../query/role-summary.js';
import { renderRows, withLayoutOptions, writeOutput, type LayoutOptions } from '../output/terminal-output.js';

interface RolesOptions extends LayoutOptions {
  db?: string;
  server?: string;
  at?: string;
  memberships?: boolean;
  allColumns?: boolean;
  format: OutputFormat;
}

export const rolesCommand = withLayoutOptions(new Command('roles'))
  .description('the roles of each server as rebuilt from the latest snapshot and the audit trail (as psql \\du); --at for any moment in the past')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--server <name>', 'only this server')
  .option('--at <time>', "the state at this time: ISO 8601, or a duration back from now ('2 days')")
  .option('--memberships', 'print the role memberships (pg_auth_members) instead of the roles')
  .option('--all-columns', "every pg_roles column instead of \\du's summary (csv and json always have them)")
  .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
  .action(async (opts: RolesOptions) => {
    const at = opts.at ? requireTimeOrAgo('--at', opts.at, new Date()) : undefined;
    const query = { ...(opts.server ? { server: opts.server } : {}), ...(at ? { at } : {}) };
    const target = await openQueryTarget(resolveDbPath(opts.db));
    try {
      const roles = await rolesAtTime(target, { ...query, ...(opts.memberships ? { memberships: true } : {}) });
      const summary = opts.format === 'table' && !opts.memberships && !opts.allColumns;
      const rows = summary ? summarizeRoles(roles, await rolesAtTime(target, { ...query, memberships: true })) : roles;
      await writeOutput(renderRows(opts.format, rows, opts));
    } finally {
      await target.close();
    }
  });
