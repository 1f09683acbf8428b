/**
 * `auditduck serve`'s /healthz answers anyone who can reach the port (no token): it says the process serves,
 * and nothing about the machine — not where the store lives.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';

import { serveDashboards } from '../../../src/web/dashboards/serve-dashboards.js';
import { closeDatabase, openDatabase } from '../../../src/store/open-database.js';

describe('serve /healthz', () => {
  it('answers ok without disclosing the store path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-serve-health-'));
    const dbPath = join(dir, 'secret-place.duckdb');
    await closeDatabase(await openDatabase(dbPath));
    const served = await serveDashboards({ dbPath, host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }), env: {} });
    try {
      const res = await fetch(`http://127.0.0.1:${served.port}/healthz`);
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.doesNotMatch(body, /secret-place|auditduck-serve-health/);
      assert.equal(JSON.parse(body).readOnly, true);
    } finally {
      await served.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
