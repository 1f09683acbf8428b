// A dashboard: its definition from /api/dashboards/NAME, the range checked once for the page, then each
// panel's rows on its own, so a panel whose query fails shows its error in place and the others still draw.
// Under `auditduck run` the panels refresh themselves.

import { getJson, queryString } from './api.js';
import { el, setTitle, showNotice } from './dom.js';
import { renderFields } from './render-fields.js';
import { renderGraph } from './render-graph.js';
import { renderNumber } from './render-number.js';
import { chartRenderer } from './render-chart.js';
import { renderTable } from './render-table.js';
import { rangeLabel, renderPickers } from './time-picker.js';
import { ALL_TIME, formatTime } from './time-format.js';

const RENDERERS = {
  number: renderNumber,
  table: renderTable,
  fields: renderFields,
  line: chartRenderer('line'),
  bar: chartRenderer('bar'),
  'stacked-bar': chartRenderer('stacked-bar'),
  graph: renderGraph,
};

/** Seconds between refreshes under `run`; ?refresh=N changes it, ?refresh=0 turns it off. */
const LIVE_REFRESH_SECONDS = 30;

export async function renderDashboard(list, name) {
  const pageValues = Object.fromEntries(new URLSearchParams(location.search));
  delete pageValues.refresh;
  const dashboard = await getJson(`/api/dashboards/${encodeURIComponent(name)}`);
  const values = { ...dashboard.defaults, ...pageValues };
  // A page about one thing (a role, a session) says which in its title, and so in the browser's history.
  const subject = dashboard.params.filter((p) => p.required && values[p.name]).map((p) => values[p.name]).join(', ');
  setTitle(subject ? `${dashboard.title}: ${subject}` : dashboard.title, dashboard.description);

  const servers = { list: [], error: null };
  try {
    servers.list = (await getJson('/api/servers')).servers;
  } catch (error) {
    servers.error = error.message;
  }
  const refresh = refreshControl(list);
  const pickers = await renderPickers({ params: dashboard.params, values, servers, extra: refresh ? [refresh.node] : [] });

  const missing = dashboard.params.filter((p) => p.required && !values[p.name]);
  if (missing.length > 0) {
    showNotice(`Enter ${missing.map((p) => p.label || p.name).join(', ')} above to see this dashboard.`);
    return;
  }

  let range;
  try {
    range = await checkRange(values);
  } catch (error) {
    if (error.status !== 400) throw error;
    pickers.showError(error.message, error.body?.field);
    return;
  }
  // A capture older than the default range: fit the range to the data rather than show empty panels.
  if (!pageValues.since && values.since && range.events.inRange === 0 && range.first) {
    const defaultLabel = rangeLabel(values.since);
    values.since = `${range.first.slice(0, 16)}:00Z`;
    delete values.until;
    const url = new URL(location.href);
    url.searchParams.set('since', values.since);
    history.replaceState(null, '', url);
    range = await checkRange(values);
    showNotice(`The default range (${defaultLabel}) holds none of the ${range.events.inRange} events in the store: showing them all, from the first one (${formatTime(range.first)}).`, 'range-fit');
  }
  pickers.showRange(range);
  if (range.events.outside > 0 || range.openAlerts.outside > 0) {
    const all = new URL(location.href);
    all.searchParams.set('since', ALL_TIME);
    all.searchParams.delete('until');
    showNotice(
      [
        document.createTextNode(`${range.events.outside} events / ${range.openAlerts.outside} open alerts outside this range — `),
        el('a', { href: `${all.pathname}${all.search}`, text: 'show all', id: 'show-all' }),
        document.createTextNode(range.openAlerts.outside > 0 ? ' (open alerts are counted and listed whatever the range)' : ''),
      ],
      'range-outside',
    );
  }

  const container = document.getElementById('panels');
  const cards = [];
  for (const panel of dashboard.panels) {
    const card = panelCard(dashboard, panel, values);
    container.append(card);
    cards.push([panel, card]);
    loadPanel(dashboard, panel, values, card, list);
  }
  refresh?.start(() => cards.forEach(([panel, card]) => loadPanel(dashboard, panel, values, card, list)));
}

function checkRange(values) {
  return getJson(`/api/time-range${queryString({ since: values.since, until: values.until, server: values.server })}`);
}

function panelCard(dashboard, panel, values) {
  const query = queryString(values);
  const links = el('div', { className: 'panel-links' });
  links.append(el('a', { href: `/sql/${panel.query}${query}`, text: 'SQL', title: `queries/${panel.query}.sql: its text, and a form to run it`, className: 'sql-link' }));
  if (panel.chart === 'table') {
    links.append(el('a', { href: `/api/dashboards/${dashboard.name}/panels/${panel.id}.csv${query}`, text: 'CSV', className: 'csv-link', download: '' }));
  }
  const head = el('div', { className: 'panel-head' });
  head.append(el('h2', { text: panel.title }), links);
  const card = el('section', { className: `panel ${panel.width}`, id: `panel-${panel.id}` });
  card.dataset.panel = panel.id;
  card.dataset.state = 'loading';
  card.append(head, el('p', { className: 'panel-description', text: panel.description || panel.queryDescription || '' }));
  card.append(el('div', { className: 'panel-body', children: [el('span', { className: 'loading', text: 'loading…' })] }));
  return card;
}

async function loadPanel(dashboard, panel, values, card, list) {
  const body = card.querySelector('.panel-body');
  let result;
  try {
    result = await getJson(`/api/dashboards/${dashboard.name}/panels/${panel.id}${queryString(values)}`);
  } catch (error) {
    body.replaceChildren(el('div', { className: 'panel-error', role: 'alert', text: `This panel's query failed:\n${error.message}` }));
    card.dataset.state = 'error';
    return;
  }
  for (const canvas of body.querySelectorAll('canvas')) Chart.getChart(canvas)?.destroy();
  body.replaceChildren();
  try {
    RENDERERS[panel.chart](body, panel, result, { dashboard, values, list, card });
    card.dataset.state = 'ready';
    card.dataset.rows = String(result.rows.length);
    card.dataset.loads = String(Number(card.dataset.loads || 0) + 1);
  } catch (error) {
    body.replaceChildren(el('div', { className: 'panel-error', role: 'alert', text: `This panel could not be drawn:\n${error.message}` }));
    card.dataset.state = 'error';
  }
}

/** Under `run` (list.live) the store grows: a checkbox to refresh every N seconds, and when it last did. */
function refreshControl(list) {
  const asked = new URLSearchParams(location.search).get('refresh');
  const seconds = asked !== null && /^\d+$/.test(asked) ? Number(asked) : LIVE_REFRESH_SECONDS;
  if (!list.live || seconds === 0) return null;
  const box = el('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
  const stamp = el('span', { className: 'refreshed', id: 'refreshed' });
  const node = el('label', { className: 'refresh', children: [el('span', { text: `Refresh every ${seconds} s` }), el('span', { className: 'refresh-line', children: [box, stamp] })] });
  const mark = () => (stamp.textContent = `updated ${formatTime(new Date().toISOString()).slice(11).replace(/\.\d+/, '')}`);
  return {
    node,
    start(reload) {
      mark();
      setInterval(() => {
        // Not while someone is choosing alerts to acknowledge or typing a comment: a refresh would lose it.
        const busy = document.querySelector('input.ack-box:checked') || document.activeElement?.matches?.('.ack-bar *, #pickers input:not([type=checkbox]), #pickers select');
        if (!box.checked || busy) return;
        reload();
        mark();
      }, seconds * 1000);
    },
  };
}
