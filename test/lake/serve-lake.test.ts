/**
 * `auditduck serve --lake`: the dashboards over the lake alone show what they show over the store the lake
 * was exported from — every panel of every dashboard, and the server picker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportStoreToLake, openLakeDatabase } from '../../src/lake/index.js';
import { serveDashboards, type DashboardServer } from '../../src/web/dashboards/serve-dashboards.js';
import { buildInvestigationFixture } from '../query/investigation-fixture.js';
import { silentLogger } from '../support/store-reader.js';

describe('serve --lake', () => {
  let dir: string;
  let overStore: DashboardServer;
  let overLake: DashboardServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-serve-lake-'));
    const db = join(dir, 'store.duckdb');
    const lake = join(dir, 'lake');
    await buildInvestigationFixture(db);
    await exportStoreToLake(db, lake, silentLogger);
    const common = { host: '127.0.0.1', port: 0, log: silentLogger, env: {} };
    overStore = await serveDashboards({ ...common, dbPath: db });
    overLake = await serveDashboards({
      ...common,
      dbPath: join(dir, 'no-store-here.duckdb'),
      open: async () => {
        const opened = await openLakeDatabase(lake);
        return { db: opened.db, readableDirs: [opened.dir], close: opened.close };
      },
    });
  });
  after(async () => {
    await overStore?.close();
    await overLake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (server: DashboardServer, path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('shows every panel of every dashboard as the store does', async () => {
    assert.deepEqual(await get(overLake, '/api/servers'), await get(overStore, '/api/servers'));
    const { dashboards } = (await get(overStore, '/api/dashboards')).body as { dashboards: { name: string }[] };
    assert.ok(dashboards.length > 0);
    let panels = 0;
    for (const { name } of dashboards) {
      const { panels: list } = (await get(overStore, `/api/dashboards/${name}`)).body as { panels: { id: string }[] };
      for (const { id } of list) {
        const fromStore = await get(overStore, `/api/dashboards/${name}/panels/${id}`);
        const fromLake = await get(overLake, `/api/dashboards/${name}/panels/${id}`);
        assert.deepEqual(fromLake, fromStore, `${name}/${id}`);
        // A panel that needs a parameter answers 422 on both; the others must show rows.
        if (fromStore.status === 200) panels++;
      }
    }
    assert.ok(panels >= 5, `${panels} panels with rows compared`);
  });
});
