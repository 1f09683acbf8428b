/**
 * `auditduck serve` on a store another process holds: DuckDB refuses even a read-only open, so serve
 * exits with a message that names the holder and points at the dashboards `auditduck run` serves and at
 * the CLI, which works through run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

describe('auditduck serve', () => {
  it('on a store held by a running writer says so and points at the UI of run and the CLI that works through it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-serve-'));
    const db = join(dir, 'store.duckdb');
    // stdin stays open: the holding writer stops when its stdin ends.
    const writer = spawn(process.execPath, ['--import', 'tsx', 'test/web/holding-writer.ts', db], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
        writer.on('exit', (code) => reject(new Error(`the holding writer exited (${code})`)));
      });
      const failed = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--db', db, '--port', '0']).then(
        () => assert.fail('serve should not start on a held store'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, new RegExp(`is held by \`auditduck run\` \\(process ${writer.pid}\\)`));
      assert.match(failed.stderr, /serves these same dashboards: open http:\/\/<its AUDITDUCK_HTTP_HOST>:<its AUDITDUCK_HTTP_PORT>\//);
      // The dashboards of run may be off (AUDITDUCK_HTTP_PORT=0); the CLI works through run either way.
      assert.match(failed.stderr, /none when it runs with AUDITDUCK_HTTP_PORT=0\)\. The CLI works through it meanwhile: `auditduck alerts`, `alerts ack ID\.\.\. \[--comment TEXT\]`/);
    } finally {
      writer.kill('SIGTERM');
      await new Promise((r) => writer.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port that is not a number', async () => {
    const failed = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', 'eighty']).catch((e: { stderr: string }) => e);
    assert.match((failed as { stderr: string }).stderr, /--port eighty is not a port number/);
  });
});
