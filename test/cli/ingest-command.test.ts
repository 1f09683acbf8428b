/**
 * `auditduck ingest` runs the detection rules on what it stores, tuned by a run configuration file's
 * `detection` section; Azure's maintenance traffic is excluded by user and database, never by loopback address.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { queryStore } from '../support/store-reader.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const SAMPLES = ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl'];

describe('auditduck ingest', () => {
  let dir: string;
  const ingest = (db: string, ...flags: string[]) =>
    exec(process.execPath, [...CLI, 'ingest', '--json', '--db', join(dir, db), ...flags, ...SAMPLES], { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' } });
  const alerts = async (db: string) => (await queryStore(join(dir, db), `SELECT rule_id FROM alerts ORDER BY alert_id`)).map((r) => r.rule_id);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-ingest-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('raises alerts on what it stores, as configured', async () => {
    const config = join(dir, 'auditduck.json');
    await writeFile(config, JSON.stringify({ detection: { exclude: { clientAddrs: [] } } }));
    const { stdout } = await ingest('configured.duckdb', '--config', config);
    assert.equal((JSON.parse(stdout) as { auditEvents: number }).auditEvents > 0, true);
    const raised = await alerts('configured.duckdb');
    assert.ok(raised.includes('admin-granted'), `got ${raised.join(', ')}`);
    assert.ok(raised.includes('login-role-created'));
  });

  it("sees loopback clients by default (Azure's PgBouncer connects from there), as with no exclusions", async () => {
    await ingest('default.duckdb');
    const config = join(dir, 'no-exclusions.json');
    await writeFile(config, JSON.stringify({ detection: { exclude: { users: [], databases: [] } } }));
    await ingest('no-exclusions.duckdb', '--config', config);
    const raised = await alerts('default.duckdb');
    assert.ok(raised.includes('admin-granted'), `got ${raised.join(', ')}`);
    assert.deepEqual(raised, await alerts('no-exclusions.duckdb'));
  });

  it('refuses to exclude a loopback address, and says why', async () => {
    const config = join(dir, 'loopback.json');
    await writeFile(config, JSON.stringify({ detection: { exclude: { clientAddrs: ['127.0.0.1'] } } }));
    await assert.rejects(ingest('loopback.duckdb', '--config', config), (error: { stderr: string }) => {
      assert.match(error.stderr, /loopback address cannot be excluded: Azure's built-in PgBouncer/);
      return true;
    });
  });

  it('stores without rules when asked', async () => {
    const config = join(dir, 'auditduck.json');
    await ingest('no-rules.duckdb', '--config', config, '--no-detection');
    assert.deepEqual(await alerts('no-rules.duckdb'), []);
    assert.ok(((await queryStore(join(dir, 'no-rules.duckdb'), 'SELECT count(*) AS n FROM privilege_changes'))[0]!.n as number) > 0);
  });
});
