// The membership graph of one server, as layers: each role sits one layer above the members that belong
// to it. A role name on two servers is two roles, so the graph never mixes servers: it draws the page's
// server, else the server of the page's role, else the first, with a picker for the others. Zoom with the
// buttons or the mouse wheel; a click on a role opens it on the same server.

import { el, svg } from './dom.js';

const W = 150, H = 30, GX = 30, GY = 60;
const ZOOM_STEP = 1.25, ZOOM_MIN = 0.25, ZOOM_MAX = 4;

export function renderGraph(body, panel, { rows }, ctx) {
  const from = panel.from || 'member';
  const to = panel.to || 'role_name';
  if (rows.length === 0) {
    body.dataset.edges = '0';
    return body.append(el('p', { className: 'empty', text: 'No memberships in force.' }));
  }
  const servers = [...new Set(rows.map((r) => String(r.server ?? '')))].sort();
  const role = ctx.values.role;
  const preferred = [ctx.values.server, servers.find((s) => rows.some((r) => String(r.server) === s && (r[from] === role || r[to] === role))), servers[0]];
  let server = preferred.find((s) => s !== undefined && servers.includes(s));

  const tools = el('div', { className: 'graph-tools' });
  const picker = el('select', { className: 'graph-server', 'aria-label': 'server of the graph' });
  for (const s of servers) picker.append(el('option', { value: s, text: s || '(no server)', selected: s === server }));
  const out = el('button', { type: 'button', text: '−', title: 'zoom out', className: 'zoom-out' });
  const fit = el('button', { type: 'button', text: 'fit', title: 'fit the width', className: 'zoom-fit' });
  const inn = el('button', { type: 'button', text: '+', title: 'zoom in', className: 'zoom-in' });
  tools.append(el('label', { children: [document.createTextNode('Server '), picker] }), out, fit, inn);
  const canvas = el('div', { className: 'graph-wrap' });
  body.append(tools, canvas, el('p', { className: 'panel-description', text: 'An arrow points from a member to the role it belongs to; dashed: WITH ADMIN OPTION.' }));

  let zoom = 1;
  let drawing;
  const applyZoom = () => {
    drawing.svg.setAttribute('width', String(Math.round(drawing.width * zoom)));
    drawing.svg.setAttribute('height', String(Math.round(drawing.height * zoom)));
    canvas.dataset.zoom = zoom.toFixed(2);
  };
  const setZoom = (z) => {
    zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
    applyZoom();
  };
  const draw = () => {
    const edges = rows.filter((r) => String(r.server ?? '') === server).map((r) => [String(r[from]), String(r[to]), r]);
    body.dataset.edges = String(edges.length);
    body.dataset.server = server;
    drawing = layout(edges, server, role);
    canvas.replaceChildren(drawing.svg);
    // Start at a size that fits the panel; the buttons and the wheel go from there.
    zoom = Math.min(1, (canvas.clientWidth || drawing.width) / drawing.width);
    applyZoom();
  };
  picker.addEventListener('change', () => {
    server = picker.value;
    draw();
  });
  out.addEventListener('click', () => setZoom(zoom / ZOOM_STEP));
  inn.addEventListener('click', () => setZoom(zoom * ZOOM_STEP));
  fit.addEventListener('click', () => setZoom((canvas.clientWidth || drawing.width) / drawing.width));
  canvas.addEventListener('wheel', (event) => {
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    setZoom(event.deltaY < 0 ? zoom * ZOOM_STEP : zoom / ZOOM_STEP);
  }, { passive: false });
  draw();
}

function layout(edges, server, highlight) {
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
  const maxLayer = Math.max(0, ...layer.values());
  const rowsByLayer = new Map();
  for (const n of nodes) {
    const l = maxLayer - layer.get(n);
    if (!rowsByLayer.has(l)) rowsByLayer.set(l, []);
    rowsByLayer.get(l).push(n);
  }
  const widest = Math.max(1, ...[...rowsByLayer.values()].map((r) => r.length));
  const width = widest * (W + GX) + GX;
  const height = (maxLayer + 1) * (H + GY) + GY / 2;
  const pos = new Map();
  for (const [l, members] of rowsByLayer) {
    const offset = (width - members.length * (W + GX) + GX) / 2;
    members.sort().forEach((n, i) => pos.set(n, { x: offset + i * (W + GX), y: GY / 2 + (maxLayer - l) * (H + GY) }));
  }
  const root = svg('svg', { class: 'graph', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `role memberships on ${server}` });
  root.innerHTML = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/></marker></defs>';
  for (const [a, b, r] of edges) {
    const p = pos.get(a), q = pos.get(b);
    const line = svg('line', { class: 'edge', x1: p.x + W / 2, y1: p.y, x2: q.x + W / 2, y2: q.y + H });
    if (r.admin_option) line.setAttribute('stroke-dasharray', '5 3');
    const title = svg('title');
    title.textContent = `${a} is a member of ${b}${r.admin_option ? ' WITH ADMIN OPTION' : ''}${r.grantor ? `, granted by ${r.grantor}` : ''}`;
    line.append(title);
    root.append(line);
  }
  for (const n of nodes) {
    const { x, y } = pos.get(n);
    const g = svg('g', { class: n === highlight ? 'node current' : 'node' });
    g.append(svg('rect', { x, y, width: W, height: H, rx: 6 }));
    const text = svg('text', { x: x + W / 2, y: y + H / 2 + 4, 'text-anchor': 'middle' });
    text.textContent = n;
    const q = new URLSearchParams({ role: n });
    if (server) q.set('server', server);
    const link = svg('a', { href: `/d/role?${q}` });
    link.append(text);
    g.append(link);
    root.append(g);
  }
  return { svg: root, width, height };
}
