/**
 * The dashboards' routes with a fleet: panels, saved queries, the time range and the server picker read
 * the fleet; an alert page reads the instance's own store (alert ids are per store); the page is told
 * which stores it shows.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Rows } from '../../../src/query/format-rows.js';
import { createDashboardRoutes } from '../../../src/web/dashboards/index.js';
import { startOpsServer, type OpsServer } from '../../../src/web/ops-server.js';

describe('dashboard routes over a fleet', () => {
  let server: OpsServer;
  const reads: Array<{ by: 'home' | 'fleet'; sql: string }> = [];
  const reader = (by: 'home' | 'fleet') => async (sql: string): Promise<Rows> => {
    reads.push({ by, sql });
    return { columns: [], rows: [] };
  };

  before(async () => {
    const routes = createDashboardRoutes({ log: pino({ level: 'silent' }), read: reader('home'), fleet: { members: ['a', 'b'], read: reader('fleet') } });
    server = await startOpsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), health: () => ({}), routes });
  });
  after(() => server.close());

  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
  const readsFor = async (path: string) => {
    reads.length = 0;
    await (await get(path)).arrayBuffer();
    return [...new Set(reads.map((read) => read.by))];
  };

  it('names the stores it shows', async () => {
    const list = (await (await get('/api/dashboards')).json()) as { fleet: string[] | null };
    assert.deepEqual(list.fleet, ['a', 'b']);
  });

  it('reads panels, saved queries, the range and the servers from the fleet', async () => {
    assert.deepEqual(await readsFor('/api/dashboards/overview/panels/audit-events?since=1970-01-01T00:00:00Z'), ['fleet']);
    assert.deepEqual(await readsFor('/api/queries/activity-totals'), ['fleet']);
    assert.deepEqual(await readsFor('/api/servers'), ['fleet']);
    assert.deepEqual(await readsFor('/api/time-range?since=7%20days'), ['fleet']);
  });

  it('reads an alert page from its own store', async () => {
    assert.deepEqual(await readsFor('/api/alerts/1'), ['home']);
  });
});
