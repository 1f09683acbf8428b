/**
 * Where `query`, `shell` and `export` read: `--lake` the lake alone; else the store, reading the rows hot
 * retention dropped from the lake configured as `run`'s is (AUDITDUCK_LAKE, or `lake` in the --config file);
 * else the store alone. While `auditduck run` holds the store, its query API answers, through its own lake.
 */
import { Command } from 'commander';
import { loadRunConfig } from '../config/run-config.js';
import { resolveDbPath } from '../config/store-path.js';
import { openLakeQueryTarget, openStoreAndLakeQueryTarget } from '../lake/index.js';
import { openQueryTarget, type QueryTarget, type QueryTargetOptions } from '../query/query-target.js';

export interface ReadTargetOptions {
  db?: string;
  lake?: string;
  config?: string;
}

/** The lake the store's dropped rows are in, configured like run's: AUDITDUCK_LAKE, or `lake` in the file. */
export async function configuredLake(configFile: string | undefined): Promise<string | undefined> {
  return process.env.AUDITDUCK_LAKE ?? (configFile ? (await loadRunConfig(configFile, {})).lake : undefined);
}

export async function openReadTarget(opts: ReadTargetOptions, targetOptions: QueryTargetOptions = {}): Promise<QueryTarget> {
  if (opts.lake) return openLakeQueryTarget(opts.lake, targetOptions);
  const lake = await configuredLake(opts.config);
  return lake ? openStoreAndLakeQueryTarget(resolveDbPath(opts.db), lake, targetOptions) : openQueryTarget(resolveDbPath(opts.db), targetOptions);
}

/** `--lake` and `--config`, worded alike on every command that reads. */
export function withLakeOptions(command: Command): Command {
  return command
    .option('--lake <dirOrUrl>', "read the lake instead of the store: its Parquet as views with the store's table names (docs/lake.md)")
    .option('--config <file>', 'a run configuration file: with a lake (its `lake`, or $AUDITDUCK_LAKE), rows hot retention dropped are read from the lake');
}
