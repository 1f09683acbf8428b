/**
 * `auditduck serve` on a store another process holds: DuckDB refuses even a read-only open, so serve
 * exits with a message that names the holder and points at the dashboards `auditduck run` serves and at
 * the CLI, which works through run. Off loopback, its log goes through the redactor and warns about a client
 * guessing its token, by the address a trusted proxy forwarded.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { startForwardingProxy } from '../support/forwarding-proxy.js';
import { CLI } from '../support/cli-command.js';

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
      const failed = await exec(process.execPath, [...CLI, 'serve', '--db', db, '--port', '0']).then(
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

  it('off loopback, logs through the redactor, and warns about a client guessing the token by the address its trusted proxy forwarded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-serve-'));
    const db = join(dir, 'store.duckdb');
    await closeDatabase(await openDatabase(db));
    const queries = join(dir, 'queries');
    await mkdir(queries);
    // Its error names the URL it could not read, credentials included: the debug line about it must not.
    await writeFile(join(queries, 'remote.sql'), "-- Reads a file over the network.\nSELECT * FROM read_csv('https://reader:hunter2secret@files.example/x.csv')\n");
    const token = 'the-ui-token-of-this-serve';
    const proxyAddress = '127.0.0.30';
    const serve = spawn(
      process.execPath,
      [...CLI, 'serve', '--db', db, '--host', '0.0.0.0', '--port', '0', '--queries', queries, '--trusted-proxy', proxyAddress],
      { env: { ...process.env, AUDITDUCK_UI_TOKEN: token, AUDITDUCK_LOG_LEVEL: 'debug', AUDITDUCK_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    serve.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let stdout = '';
        serve.stdout!.on('data', (c: Buffer) => {
          stdout += c.toString();
          const url = /at http:\/\/0\.0\.0\.0:(\d+)\//.exec(stdout);
          if (url) resolve(Number(url[1]));
        });
        serve.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      const proxy = await startForwardingProxy({ host: '127.0.0.1', port }, proxyAddress);
      const get = (source: string, path: string, bearer: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: proxy.port, localAddress: source, path, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      try {
        assert.equal(await get('127.0.0.32', '/api/queries/remote', token), 422, 'the query fails in place');
        for (let i = 0; i < 10; i++) assert.equal(await get('127.0.0.31', '/api/dashboards', 'a-wrong-token-of-this-serve'), 401);
        assert.equal(await get('127.0.0.31', '/api/dashboards', token), 429);
        assert.equal(await get('127.0.0.32', '/api/dashboards', token), 200);
      } finally {
        await proxy.close();
      }
      const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; address?: string; via?: string });
      assert.ok(lines.some((l) => l.msg === 'saved query failed'), stderr);
      assert.ok(!stderr.includes('hunter2secret'), 'the password in the failed query is redacted from the log');
      const warnings = lines.filter((l) => l.level === 40);
      assert.deepEqual(warnings.map((w) => `${w.address} via ${w.via}`), [`127.0.0.31 via ${proxyAddress}`, `127.0.0.31 via ${proxyAddress}`]);
      assert.ok(!stderr.includes(token) && !stderr.includes('a-wrong-token-of-this-serve'), 'no token value in the log');
    } finally {
      serve.kill('SIGTERM');
      if (serve.exitCode === null) await new Promise((r) => serve.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port that is not a number', async () => {
    const failed = await exec(process.execPath, [...CLI, 'serve', '--port', 'eighty']).catch((e: { stderr: string }) => e);
    assert.match((failed as { stderr: string }).stderr, /--port eighty is not a port number/);
  });
});
