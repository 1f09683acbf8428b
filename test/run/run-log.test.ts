/**
 * What a person watching `auditduck run` in a terminal reads (AUDITDUCK_LOG_FORMAT=pretty, as on a TTY): the
 * configuration in one line at start, then one line per alert whose level follows its severity.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ANSI = /\u001b\[[0-9;]*m/g;
const LEVEL_OF = { critical: 'ERROR', high: 'WARN', medium: 'INFO', low: 'INFO' } as const;

describe('the log of auditduck run on a terminal', () => {
  let dir: string;
  let db: string;
  let lines: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-run-log-'));
    db = join(dir, 'store.duckdb');
    const child = spawn(process.execPath, [...CLI, 'run'], {
      cwd: ROOT,
      env: runEnv({ db, port: 0, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'pretty' } }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      await waitFor('the demo stream delivered', async () => (stderr.includes('demo stream delivered all samples') ? true : undefined), 60_000);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    lines = stderr.replace(ANSI, '').split('\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The fields pino-pretty prints under a line are indented: a line followed by none is one line. */
  const standsAlone = (i: number) => !/^\s/.test(lines[i + 1] ?? '');

  it('starts with the configuration in one line', () => {
    const i = lines.findIndex((l) => / INFO \(\d+\): starting: /.test(l));
    assert.ok(i >= 0, lines.slice(0, 5).join('\n'));
    assert.ok(lines[i]!.includes(`db=${db} `), lines[i]);
    assert.match(lines[i]!, /eventHubs="demo \(samples\/\)" http\.host=127\.0\.0\.1 http\.port=0 alerting\.log\.enabled=true/);
    assert.ok(standsAlone(i), `the config spread over lines:\n${lines.slice(i, i + 5).join('\n')}`);
  });

  it('logs one line per alert, at the level of its severity', () => {
    const alertLines = lines.flatMap((line, i) => {
      const m = /^\[[\d:.]+\] (ERROR|WARN|INFO) \(\d+\): \[(critical|high|medium|low)\] (\S+) .* on (\S+) \(alert (\d+)\)$/.exec(line);
      return m ? [{ i, level: m[1]!, severity: m[2] as keyof typeof LEVEL_OF, rule: m[3]!, server: m[4]!, id: Number(m[5]) }] : [];
    });
    assert.ok(alertLines.length >= 10, `the demo capture raises more alerts than ${alertLines.length}:\n${lines.join('\n')}`);
    assert.deepEqual(new Set(alertLines.map((a) => a.severity)), new Set(['critical', 'high', 'medium', 'low']), 'the capture has alerts of every severity');
    for (const a of alertLines) {
      assert.equal(a.level, LEVEL_OF[a.severity], lines[a.i]);
      assert.ok(standsAlone(a.i), `alert ${a.id} spread over lines:\n${lines.slice(a.i, a.i + 5).join('\n')}`);
    }
    assert.ok(alertLines.some((a) => a.rule === 'admin-granted' && a.server === 'demo-flex'));
    assert.deepEqual(alertLines.map((a) => a.id).sort((x, y) => x - y), [...new Set(alertLines.map((a) => a.id))].sort((x, y) => x - y), 'each alert once');
  });
});
