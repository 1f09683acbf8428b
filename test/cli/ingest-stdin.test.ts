/**
 * `auditduck ingest -` with `--source-id`: a stream sent again from its start is read on after what was stored
 * under that id, so a re-sent stream stores no row twice (without an id, stdin has no identity at all).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryStore } from '../support/store-reader.js';
import { CLI } from '../support/cli-command.js';

const SAMPLE = 'samples/eventhubs/partition-0.jsonl';

function ingestStdin(input: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'ingest', '--json', '--no-detection', ...args, '-'], {
      env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('auditduck ingest - (stdin)', () => {
  let dir: string;
  let lines: string[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-ingest-stdin-'));
    lines = (await readFile(SAMPLE, 'utf8')).split('\n').filter((l) => l !== '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const count = async (db: string) => Number((await queryStore(db, 'SELECT count(*) AS n FROM audit_events'))[0]!.n);

  it('stores a stream sent twice under one --source-id once, and reads on when it has grown', async () => {
    const db = join(dir, 'resent.duckdb');
    const firstPart = lines.slice(0, 2).join('\n') + '\n';
    const whole = lines.join('\n') + '\n';
    assert.equal((await ingestStdin(firstPart, '--db', db, '--source-id', 'pg-prod-capture')).code, 0);
    const once = await count(db);
    assert.ok(once > 0);
    const again = await ingestStdin(firstPart, '--db', db, '--source-id', 'pg-prod-capture');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await count(db), once, 'the same stream again adds nothing');
    assert.equal((await ingestStdin(whole, '--db', db, '--source-id', 'pg-prod-capture')).code, 0);
    const all = join(dir, 'all-at-once.duckdb');
    assert.equal((await ingestStdin(whole, '--db', all, '--source-id', 'x')).code, 0);
    assert.equal(await count(db), await count(all), 'the grown stream adds only what was appended');
  });

  it('refuses --source-id without stdin among the paths, and says what to do', async () => {
    const child = spawn(process.execPath, [...CLI, 'ingest', '--db', join(dir, 'x.duckdb'), '--source-id', 'a', SAMPLE]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /--source-id names the stream on stdin/);
  });
});
