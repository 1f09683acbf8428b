// The dashboards page: reads a dashboard definition from /api/dashboards/NAME, then asks for each panel's
// rows on its own, so a panel whose query fails shows its error in place and the others still draw.
// Plain browser JavaScript, no build step. Chart.js (window.Chart) comes from /ui/vendor/chart.js.
'use strict';

const SINCE_CHOICES = [
  ['1 hour', 'last hour'],
  ['24 hours', 'last 24 hours'],
  ['7 days', 'last 7 days'],
  ['30 days', 'last 30 days'],
  ['90 days', 'last 90 days'],
  ['365 days', 'last year'],
  ['1970-01-01T00:00:00Z', 'all time'],
];
const PALETTE = ['#2458c6', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4', '#bf399e', '#6c8893', '#ee6868', '#f2b134'];
const SEVERITY_COLORS = { critical: '#8b0000', high: '#d9534f', medium: '#f0ad4e', low: '#7f8c8d' };
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const url = new URL(location.href);
const pageValues = Object.fromEntries(url.searchParams);

main().catch((error) => {
  document.getElementById('title').textContent = 'The dashboards could not load';
  showNotice(String(error.message || error));
});

async function main() {
  const list = await getJson('/api/dashboards');
  const name = location.pathname.startsWith('/d/') ? decodeURIComponent(location.pathname.slice(3)) : list.dashboards[0]?.name;
  renderNav(list.dashboards, name);
  for (const e of list.errors) showNotice(`${e.path}: ${e.error}`);
  if (!name) {
    document.getElementById('title').textContent = 'No dashboards';
    return;
  }
  const dashboard = await getJson(`/api/dashboards/${encodeURIComponent(name)}`);
  const values = { ...dashboard.defaults, ...pageValues };
  document.title = `${dashboard.title} · auditduck`;
  document.getElementById('title').textContent = dashboard.title;
  document.getElementById('description').textContent = dashboard.description;
  await renderPickers(dashboard, values);

  const missing = dashboard.params.filter((p) => p.required && !values[p.name]);
  if (missing.length > 0) {
    showNotice(`Enter ${missing.map((p) => p.label || p.name).join(', ')} above to see this dashboard.`);
    return;
  }
  const container = document.getElementById('panels');
  for (const panel of dashboard.panels) {
    const card = panelCard(dashboard, panel, values);
    container.append(card);
    loadPanel(dashboard, panel, values, card, list);
  }
}

// ---------------------------------------------------------------- page furniture

function renderNav(dashboards, current) {
  const nav = document.getElementById('nav');
  const keep = new URLSearchParams();
  for (const key of ['since', 'until', 'server']) if (pageValues[key]) keep.set(key, pageValues[key]);
  for (const d of dashboards) {
    const a = el('a', { href: `/d/${d.name}${keep.size ? `?${keep}` : ''}`, text: d.title });
    if (d.name === current) a.className = 'current';
    nav.append(a);
  }
}

async function renderPickers(dashboard, values) {
  const form = document.getElementById('pickers');
  const since = el('select', { name: 'since', id: 'pick-since' });
  // Without a value the queries use their own defaults: say so rather than show a range that is not applied.
  const choices = values.since ? [...SINCE_CHOICES] : [['', "each query's default"], ...SINCE_CHOICES];
  if (values.since && !choices.some(([v]) => v === values.since)) choices.push([values.since, values.since]);
  for (const [value, label] of choices) since.append(el('option', { value, text: label, selected: value === (values.since || '') }));
  form.append(labelled('From', since));
  form.append(labelled('Until (blank: now)', el('input', { name: 'until', id: 'pick-until', value: values.until || '', placeholder: 'ISO time or 2 hours' })));

  const server = el('select', { name: 'server', id: 'pick-server' });
  server.append(el('option', { value: '', text: 'all servers' }));
  try {
    const { servers } = await getJson('/api/servers');
    for (const s of servers) server.append(el('option', { value: s, text: s, selected: s === values.server }));
  } catch (error) {
    server.append(el('option', { value: '', text: `(servers unavailable: ${error.message})` }));
  }
  form.append(labelled('Server', server));
  for (const p of dashboard.params) {
    form.append(labelled(p.label || p.name, el('input', { name: p.name, id: `pick-${p.name}`, value: values[p.name] || '', required: p.required })));
  }
  form.append(el('button', { type: 'submit', text: 'Apply' }));
  // Blank inputs stay out of the URL, so the saved queries' own defaults apply.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') next.set(k, String(v).trim());
    location.search = next.toString();
  });
}

function panelCard(dashboard, panel, values) {
  const query = panelQueryString(values);
  const links = el('div', { className: 'panel-links' });
  links.append(el('a', { href: `/sql/${panel.query}`, text: 'SQL', title: `queries/${panel.query}.sql`, className: 'sql-link' }));
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

function panelQueryString(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== '' && v !== undefined) q.set(k, v);
  return q.size ? `?${q}` : '';
}

async function loadPanel(dashboard, panel, values, card, list) {
  const body = card.querySelector('.panel-body');
  let result;
  try {
    result = await getJson(`/api/dashboards/${dashboard.name}/panels/${panel.id}${panelQueryString(values)}`);
  } catch (error) {
    body.replaceChildren(el('div', { className: 'panel-error', role: 'alert', text: `This panel's query failed:\n${error.message}` }));
    card.dataset.state = 'error';
    return;
  }
  body.replaceChildren();
  try {
    RENDERERS[panel.chart](body, panel, result, { dashboard, values, list, card });
    card.dataset.state = 'ready';
    card.dataset.rows = String(result.rows.length);
  } catch (error) {
    body.replaceChildren(el('div', { className: 'panel-error', role: 'alert', text: `This panel could not be drawn:\n${error.message}` }));
    card.dataset.state = 'error';
  }
}

// ---------------------------------------------------------------- renderers, one per chart type

const RENDERERS = {
  number: renderNumber,
  table: renderTable,
  line: (body, panel, result) => renderChart(body, panel, result, 'line'),
  bar: (body, panel, result) => renderChart(body, panel, result, 'bar'),
  'stacked-bar': (body, panel, result) => renderChart(body, panel, result, 'stacked-bar'),
  graph: renderGraph,
};

function renderNumber(body, panel, { columns, rows }) {
  const column = panel.value || columns[0];
  const value = rows.length ? rows[0][column] : null;
  const div = el('div', { className: 'number', text: value === null || value === undefined ? '–' : String(value) });
  div.dataset.value = value === null || value === undefined ? '' : String(value);
  body.append(div);
}

function renderTable(body, panel, { columns, rows }, ctx) {
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: 'No rows in this range.' }));
  const ackable = panel.acknowledge && columns.includes('alert_id');
  if (ackable) body.append(ackBar(body, ctx));
  const table = el('table');
  const head = el('tr');
  if (ackable) head.append(el('th', { text: '' }));
  for (const c of columns) head.append(el('th', { text: c }));
  table.append(el('thead', { children: [head] }));
  const tbody = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    if (ackable) {
      const box = el('input', { type: 'checkbox', className: 'ack-box', value: String(row.alert_id), disabled: row.status !== 'open' });
      tr.append(el('td', { children: [box] }));
    }
    for (const c of columns) tr.append(tableCell(panel, c, row));
    tr.dataset.key = String(row[columns[0]]);
    tbody.append(tr);
  }
  table.append(tbody);
  body.append(el('div', { className: 'table-wrap', children: [table] }));
}

function tableCell(panel, column, row) {
  const value = row[column];
  const td = el('td', { className: 'cell' });
  td.dataset.column = column;
  if (value === null || value === undefined) return td;
  if (typeof value === 'number') td.classList.add('num');
  if (column === 'severity') td.classList.add(`sev-${value}`);
  if (panel.links[column] === 'role' && typeof value === 'string' && value !== '') {
    const q = new URLSearchParams({ role: value });
    if (row.server) q.set('server', row.server);
    td.append(el('a', { href: `/d/role?${q}`, text: value, className: 'role-link' }));
    return td;
  }
  const json = typeof value === 'string' && value.startsWith('{') ? parseJson(value) : undefined;
  if ((typeof value === 'object' && !Array.isArray(value)) || json !== undefined) {
    // Evidence and other JSON: folded, so the table stays readable.
    td.classList.remove('cell');
    const details = el('details', { children: [el('summary', { text: 'show' }), el('pre', { text: JSON.stringify(json ?? value, null, 2) })] });
    td.append(details);
    return td;
  }
  const text = Array.isArray(value) ? value.map(plainText).join(', ') : plainText(value);
  td.textContent = text;
  td.title = text;
  return td;
}

function ackBar(body, ctx) {
  const bar = el('div', { className: 'ack-bar' });
  const button = el('button', { type: 'button', text: 'Acknowledge selected', id: 'ack-button' });
  const result = el('span', { className: 'ack-result', id: 'ack-result' });
  if (!ctx.list.canAcknowledge) {
    button.disabled = true;
    bar.append(button, el('span', { className: 'ack-help', id: 'ack-help', text: ctx.list.acknowledgeHelp }));
    return bar;
  }
  button.addEventListener('click', async () => {
    const ids = [...body.querySelectorAll('input.ack-box:checked')].map((b) => Number(b.value));
    if (ids.length === 0) return void (result.textContent = 'Select alerts first.');
    button.disabled = true;
    try {
      const response = await fetch('/api/alerts/acknowledge', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      result.textContent = `Acknowledged ${answer.acknowledged.length} alert(s): ${answer.acknowledged.join(', ')}. Reloading…`;
      setTimeout(() => location.reload(), 600);
    } catch (error) {
      result.textContent = `Could not acknowledge: ${error.message}`;
      button.disabled = false;
    }
  });
  bar.append(button, result);
  return bar;
}

/** Rows → Chart.js datasets: a `series` column pivots into one dataset per value, else one per y column. */
function renderChart(body, panel, { columns, rows }, kind) {
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: 'No data in this range.' }));
  const x = panel.x || columns[0];
  const ys = panel.y ? [].concat(panel.y) : [columns[columns.length - 1]];
  const labels = [...new Set(rows.map((r) => String(r[x])))];
  const index = new Map(labels.map((l, i) => [l, i]));
  let datasets;
  if (panel.series) {
    const bySeries = new Map();
    for (const r of rows) {
      const key = r[panel.series] === null ? '(none)' : String(r[panel.series]);
      if (!bySeries.has(key)) bySeries.set(key, new Array(labels.length).fill(0));
      bySeries.get(key)[index.get(String(r[x]))] += Number(r[ys[0]] ?? 0);
    }
    datasets = [...bySeries].map(([label, data]) => ({ label, data }));
  } else {
    datasets = ys.map((y) => {
      const data = new Array(labels.length).fill(0);
      for (const r of rows) data[index.get(String(r[x]))] += Number(r[y] ?? 0);
      return { label: y, data };
    });
  }
  datasets.forEach((d, i) => {
    const color = SEVERITY_COLORS[d.label] || PALETTE[i % PALETTE.length];
    Object.assign(d, { backgroundColor: color, borderColor: color, tension: 0.2 });
  });
  if (!panel.series && ys.length === 1 && x === 'severity') {
    datasets[0].backgroundColor = labels.map((l) => SEVERITY_COLORS[l] || PALETTE[0]);
  }
  const box = el('div', { className: 'chart-box' });
  const total = datasets.reduce((sum, d) => sum + d.data.reduce((a, b) => a + b, 0), 0);
  box.dataset.total = String(total);
  box.dataset.series = datasets.map((d) => d.label).join(',');
  const canvas = el('canvas', { role: 'img', 'aria-label': panel.title });
  box.append(canvas);
  body.append(box);
  const stacked = kind === 'stacked-bar';
  new Chart(canvas, {
    type: kind === 'line' ? 'line' : 'bar',
    data: { labels: labels.map(axisLabel), datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: datasets.length > 1 || Boolean(panel.series), position: 'bottom' } },
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

/** Memberships as a layered graph: each role sits one layer above the members that belong to it. */
function renderGraph(body, panel, { rows }) {
  const from = panel.from || 'member';
  const to = panel.to || 'role_name';
  const edges = rows.map((r) => [String(r[from]), String(r[to]), r]);
  body.dataset.edges = String(edges.length);
  if (edges.length === 0) return body.append(el('p', { className: 'empty', text: 'No memberships in force.' }));
  const nodes = [...new Set(edges.flatMap(([a, b]) => [a, b]))];
  const up = new Map(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) up.get(a).push(b);
  // Layer = longest chain of memberships above a node (cycles are cut by the depth limit).
  const layer = new Map();
  const depthOf = (n, seen = new Set()) => {
    if (layer.has(n)) return layer.get(n);
    if (seen.has(n) || seen.size > 50) return 0;
    seen.add(n);
    const d = up.get(n).length === 0 ? 0 : 1 + Math.max(...up.get(n).map((m) => depthOf(m, seen)));
    layer.set(n, d);
    return d;
  };
  nodes.forEach((n) => depthOf(n));
  const maxLayer = Math.max(...layer.values());
  const rowsByLayer = new Map();
  for (const n of nodes) {
    const l = maxLayer - layer.get(n);
    if (!rowsByLayer.has(l)) rowsByLayer.set(l, []);
    rowsByLayer.get(l).push(n);
  }
  const W = 150, H = 30, GX = 30, GY = 60;
  const widest = Math.max(...[...rowsByLayer.values()].map((r) => r.length));
  const width = widest * (W + GX) + GX;
  const height = (maxLayer + 1) * (H + GY) + GY / 2;
  const pos = new Map();
  for (const [l, members] of rowsByLayer) {
    const offset = (width - members.length * (W + GX) + GX) / 2;
    members.sort().forEach((n, i) => pos.set(n, { x: offset + i * (W + GX), y: GY / 2 + (maxLayer - l) * (H + GY) }));
  }
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'graph');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(Math.min(width, 1200)));
  svg.innerHTML = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8795ad"/></marker></defs>';
  for (const [a, b, r] of edges) {
    const p = pos.get(a), q = pos.get(b);
    const line = document.createElementNS(NS, 'line');
    line.setAttribute('class', 'edge');
    line.setAttribute('x1', String(p.x + W / 2)); line.setAttribute('y1', String(p.y));
    line.setAttribute('x2', String(q.x + W / 2)); line.setAttribute('y2', String(q.y + H));
    if (r.admin_option) line.setAttribute('stroke-dasharray', '5 3');
    const title = document.createElementNS(NS, 'title');
    title.textContent = `${a} is a member of ${b}${r.admin_option ? ' WITH ADMIN OPTION' : ''}${r.grantor ? `, granted by ${r.grantor}` : ''}`;
    line.append(title);
    svg.append(line);
  }
  for (const n of nodes) {
    const { x, y } = pos.get(n);
    const g = document.createElementNS(NS, 'g');
    g.setAttribute('class', 'node');
    g.innerHTML = `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="6"></rect>`;
    const text = document.createElementNS(NS, 'text');
    text.setAttribute('x', String(x + W / 2)); text.setAttribute('y', String(y + H / 2 + 4)); text.setAttribute('text-anchor', 'middle');
    text.textContent = n;
    const link = document.createElementNS(NS, 'a');
    link.setAttribute('href', `/d/role?role=${encodeURIComponent(n)}`);
    link.append(text);
    g.append(link);
    svg.append(g);
  }
  body.append(el('div', { className: 'table-wrap', children: [svg] }));
  body.append(el('p', { className: 'panel-description', text: 'An arrow points from a member to the role it belongs to; dashed: WITH ADMIN OPTION.' }));
}

// ---------------------------------------------------------------- small helpers

/** JSON columns (evidence) arrive as text; undefined when the text is not JSON after all. */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function plainText(value) {
  if (typeof value === 'string' && ISO_TIME.test(value)) return value.replace('T', ' ').replace('Z', '');
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function axisLabel(value) {
  return ISO_TIME.test(value) ? value.replace('T', ' ').replace(/(\.000)?Z$/, '') : value;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${response.status} ${text.slice(0, 300)}`);
  }
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function showNotice(text) {
  document.getElementById('notice').append(el('div', { className: 'notice', text }));
}

function labelled(text, input) {
  return el('label', { children: [document.createTextNode(text), input] });
}

function el(tag, props = {}) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'children') node.append(...value);
    else if (key === 'className' || key === 'id' || key === 'value' || key === 'href' || key === 'type' || key === 'name' || key === 'title' || key === 'placeholder') node[key] = value;
    else if (typeof value === 'boolean') node[key] = value;
    else node.setAttribute(key, value);
  }
  return node;
}
