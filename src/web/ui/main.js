// The page's entry: which page this URL is, drawn by its module. Plain browser ES modules, no build step;
// Chart.js (window.Chart) comes from /ui/vendor/chart.js.

import { renderAlertPage } from './alert-page.js';
import { getJson } from './api.js';
import { renderDashboard } from './dashboard-page.js';
import { showNotice } from './dom.js';
import { renderNav } from './nav.js';
import { renderQueryList, renderQueryPage } from './query-page.js';
import { applyStoredTheme } from './theme.js';

applyStoredTheme();
main().catch((error) => {
  document.getElementById('title').textContent = 'This page could not load';
  showNotice(String(error.message || error));
});

async function main() {
  const list = await getJson('/api/dashboards');
  const path = location.pathname;
  const alert = /^\/alerts\/(\d+)$/.exec(path);
  const sql = /^\/sql\/([a-z0-9_-]+)$/.exec(path);
  const dashboard = path.startsWith('/d/') ? decodeURIComponent(path.slice(3)) : path === '/' ? list.dashboards.find((d) => d.nav !== false)?.name : undefined;
  renderNav(list.dashboards, alert ? 'alerts' : sql || path === '/queries' ? 'queries' : dashboard);
  for (const e of list.errors) showNotice(`${e.path}: ${e.error}`);
  // Alert pages read one store (alert ids are per store); everything else reads the fleet.
  if (list.fleet && !alert) showNotice(`Fleet: ${list.fleet.join(', ')} — every record counted once across these stores.`, 'fleet');
  if (alert) return renderAlertPage(list, alert[1]);
  if (path === '/queries') return renderQueryList();
  if (sql) return renderQueryPage(sql[1]);
  if (!dashboard) {
    document.getElementById('title').textContent = 'No dashboards';
    return;
  }
  return renderDashboard(list, dashboard);
}
