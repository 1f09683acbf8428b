import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DASHBOARDS_DIR, loadDashboards, parseDashboard } from '../../../src/web/dashboards/dashboard-file.js';
import { findQueryIn, defaultQueryDirs } from '../../../src/web/dashboards/panel-query.js';

describe('the built-in dashboards', () => {
  const { dashboards, errors } = loadDashboards([DEFAULT_DASHBOARDS_DIR]);

  it('all load, in the navigation order overview, identities, authentication, alerts, role; the pages links open stay out of it', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(dashboards.filter((d) => d.nav).map((d) => d.name), ['overview', 'identities', 'authentication', 'alerts', 'role']);
    assert.deepEqual(dashboards.filter((d) => !d.nav).map((d) => d.name), ['session', 'client', 'setting', 'server']);
  });

  it('every kind of link lands on a page that takes the linked value as its input', () => {
    const inputOf = { role: ['role', 'role'], session: ['session', 'session_id'], client: ['client', 'client_addr'], setting: ['setting', 'parameter'], server: ['server', 'server'] } as const;
    const used = new Set(dashboards.flatMap((d) => d.panels.flatMap((p) => Object.values(p.links))));
    for (const kind of used) {
      if (kind === 'alert') continue; // /alerts/ID, not a dashboard
      const [page, input] = inputOf[kind];
      const target = dashboards.find((d) => d.name === page);
      assert.ok(target, `links of kind ${kind} need the ${page} dashboard`);
      assert.ok(target.params.some((p) => p.name === input && p.required), `${page} requires ${input}`);
    }
    assert.deepEqual([...used].sort(), ['alert', 'client', 'role', 'server', 'session', 'setting']);
  });

  it('name only saved queries that exist, with fixed params those queries declare', () => {
    for (const d of dashboards) {
      for (const p of d.panels) {
        const query = findQueryIn(defaultQueryDirs(), p.query);
        for (const [name, value] of Object.entries(p.params)) {
          assert.ok(query.params.some((q) => q.name === name), `${d.name}/${p.id}: ${p.query} has no parameter ${name}`);
          const ref = value?.startsWith('$') ? value.slice(1) : undefined;
          if (ref) assert.ok(d.params.some((x) => x.name === ref), `${d.name}/${p.id}: ${value} names no input of the dashboard`);
        }
      }
    }
  });

  it('the role timeline requires its role', () => {
    const role = dashboards.find((d) => d.name === 'role')!;
    assert.deepEqual(role.params, [{ name: 'role', label: 'Role', required: true }]);
  });

  it('the alert list is the one panel with the acknowledge button', () => {
    const ackable = dashboards.flatMap((d) => d.panels.filter((p) => p.acknowledge).map((p) => `${d.name}/${p.id}`));
    assert.deepEqual(ackable, ['alerts/alert-list']);
  });
});

describe('a dashboard file', () => {
  const panel = { id: 'a', title: 'A', query: 'role-inventory', chart: 'table' };

  it('fills defaults: half width, no fixed params, no links', () => {
    const d = parseDashboard('x', JSON.stringify({ title: 'X', panels: [panel] }));
    assert.deepEqual(d.panels[0], { ...panel, params: {}, links: {}, acknowledge: false, width: 'half' });
  });

  const rejected: [string, unknown, RegExp][] = [
    ['an unknown chart type', { title: 'X', panels: [{ ...panel, chart: 'pie' }] }, /panels\.0\.chart/],
    ['an unknown field (a typo)', { title: 'X', panels: [{ ...panel, colour: 'red' }] }, /colour/],
    ['no panels', { title: 'X', panels: [] }, /panels/],
    ['two panels with one id', { title: 'X', panels: [panel, panel] }, /two panels have the id "a"/],
    ['a query name that is a path', { title: 'X', panels: [{ ...panel, query: '../etc/passwd' }] }, /saved query name/],
  ];
  for (const [what, body, message] of rejected) {
    it(`is refused with ${what}, naming the file`, () => {
      assert.throws(() => parseDashboard('x', JSON.stringify(body), 'dashboards/x.json'), (e: Error) => e.message.startsWith('dashboards/x.json') && message.test(e.message));
    });
  }

  it('that is broken is reported beside the others, which still load; an earlier folder wins on a name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-dash-'));
    try {
      await writeFile(join(dir, 'bad.json'), '{ not json');
      await writeFile(join(dir, 'overview.json'), JSON.stringify({ title: 'My overview', order: 0, panels: [panel] }));
      const { dashboards, errors } = loadDashboards([dir, DEFAULT_DASHBOARDS_DIR]);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.error, /bad\.json is not JSON/);
      assert.equal(dashboards.find((d) => d.name === 'overview')!.title, 'My overview');
      assert.equal(dashboards.length, 9);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the example in docs/dashboards.md', () => {
  it('is a valid dashboard whose panels name existing saved queries and their parameters', async () => {
    const doc = await readFile('docs/dashboards.md', 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(doc)![1]!;
    const d = parseDashboard('example', example);
    for (const p of d.panels) {
      const query = findQueryIn(defaultQueryDirs(), p.query);
      for (const name of Object.keys(p.params)) assert.ok(query.params.some((q) => q.name === name), `${p.query} has no parameter ${name}`);
    }
  });
});
