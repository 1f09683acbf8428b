/**
 * Each batch's rows and its position commit together: ingesting a file again adds nothing, and a run
 * killed mid-file (SIGKILL, no cleanup) and started again ends with exactly the rows of one clean run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { writeSyntheticBodies } from '../../bench/generate-bodies.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { queryStore, silentLogger } from '../support/store-reader.js';
import { killAfterLogLines } from '../support/kill-after-log-lines.js';
import { CLI } from '../support/cli-command.js';

const COUNTS = `SELECT (SELECT count(*) FROM log_records) AS records, (SELECT count(*) FROM audit_events) AS audit,
  (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM auth_failures) AS failures,
  (SELECT count(*) FROM (SELECT source, position FROM log_records GROUP BY ALL HAVING count(*) > 1)) AS duplicated_positions`;

describe('exactly-once ingest', () => {
  let dir: string;
  let input: string;
  let reference: Record<string, unknown>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-once-'));
    input = join(dir, 'hub.jsonl');
    await writeSyntheticBodies(input, 60_000);
    const db = join(dir, 'reference.duckdb');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    reference = (await queryStore(db, COUNTS))[0]!;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds nothing when the same file, a copy of it, or its gzip is ingested again', async () => {
    const db = join(dir, 'again.duckdb');
    const copy = join(dir, 'copy-of-hub.jsonl');
    await writeFile(copy, await readFile(input));
    await writeFile(join(dir, 'hub.jsonl.gz'), gzipSync(await readFile(input)));
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const second = await ingestFiles([input, copy, join(dir, 'hub.jsonl.gz')], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(second.records, 0);
    assert.deepEqual((await queryStore(db, COUNTS))[0], reference);
  });

  it('reads only what was appended to a growing file', async () => {
    const db = join(dir, 'growing.duckdb');
    const lines = (await readFile(input, 'utf8')).split('\n').filter(Boolean);
    const growing = join(dir, 'growing.jsonl');
    await writeFile(growing, lines.slice(0, 100).join('\n') + '\n');
    const first = await ingestFiles([growing], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    await writeFile(growing, lines.join('\n') + '\n');
    const rest = await ingestFiles([growing], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(first.records + rest.records, reference.records);
    assert.deepEqual((await queryStore(db, COUNTS))[0], reference);
  });

  it('ends with the rows of one clean run after a SIGKILL mid-file and a restart', async () => {
    const db = join(dir, 'killed.duckdb');
    const cli = [...CLI, 'ingest', '--db', db, '--workers', '1', '--batch-records', '2000', input];
    const env = { ...process.env, AUDITDUCK_LOG_LEVEL: 'debug', AUDITDUCK_LOG_FORMAT: 'json' };
    const killedAfter = await killAfterLogLines(cli, env, '"batch committed"', 3);
    assert.ok(killedAfter >= 3);
    const partial = (await queryStore(db, COUNTS))[0]!;
    assert.ok(Number(partial.records) > 0 && Number(partial.records) < Number(reference.records), `partial run stored ${String(partial.records)} records`);

    const restart = spawn(process.execPath, cli, { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => restart.on('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual((await queryStore(db, COUNTS))[0], reference);
  });
});
