/** AUDITDUCK_LOG_FORMAT forces the log's form either way; unset, it follows whether stderr is a terminal. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prettyWanted } from '../../src/logging/logger.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;

test('pretty and json force the form; unset follows the terminal; anything else is an error naming both', () => {
  assert.equal(prettyWanted('pretty', false), true);
  assert.equal(prettyWanted('json', true), false);
  assert.equal(prettyWanted(undefined, true), true);
  assert.equal(prettyWanted(undefined, false), false);
  assert.throws(() => prettyWanted('text', false), /AUDITDUCK_LOG_FORMAT is "text": use pretty or json/);
});

test('AUDITDUCK_LOG_FORMAT=pretty gives readable lines on a stderr that is no terminal (as under Docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'auditduck-log-format-'));
  try {
    const junk = join(dir, 'junk.log');
    writeFileSync(junk, 'not a log line\n');
    const run = (format: string) =>
      spawnSync(process.execPath, [...CLI, 'ingest', '--db', join(dir, `${format}.duckdb`), junk], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, AUDITDUCK_LOG_FORMAT: format, NO_COLOR: '1' },
      }).stderr;
    const pretty = run('pretty');
    assert.match(pretty, /WARN.*some input could not be read/);
    assert.doesNotMatch(pretty, /^\{"level"/m);
    assert.match(run('json'), /^\{"level":40,.*"msg":"some input could not be read/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
