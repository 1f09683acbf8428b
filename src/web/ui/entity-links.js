// Where a value links, by its kind: each kind has a page of its own. The row's server goes along, so a
// role or session opens on the server it belongs to; so do the page's since/until.

import { el } from './dom.js';

const PAGES = {
  role: (value) => ['/d/role', { role: value }],
  session: (value) => ['/d/session', { session_id: value }],
  client: (value) => ['/d/client', { client_addr: value }],
  setting: (value) => ['/d/setting', { parameter: value }],
  server: (value) => ['/d/server', { server: value }],
};

const KEEP = ['since', 'until'];

export function entityHref(kind, value, row = {}) {
  if (kind === 'alert') return row.alert_id !== undefined && row.alert_id !== null ? `/alerts/${encodeURIComponent(row.alert_id)}` : null;
  const page = PAGES[kind];
  if (!page || typeof value !== 'string' || value === '') return null;
  // An attribute column is a setting only on a parameter change; elsewhere it is a role attribute (rolsuper).
  if (kind === 'setting' && 'action' in row && !String(row.action).endsWith('-parameter')) return null;
  const [path, params] = page(value);
  const q = new URLSearchParams(params);
  if (kind !== 'server' && typeof row.server === 'string' && row.server !== '') q.set('server', row.server);
  const current = new URLSearchParams(location.search);
  for (const key of KEEP) if (current.get(key)) q.set(key, current.get(key));
  return `${path}?${q}`;
}

export function entityLink(kind, value, row, text = String(value)) {
  const href = entityHref(kind, typeof value === 'number' ? String(value) : value, row);
  if (!href) return document.createTextNode(text);
  return el('a', { href, text, className: `entity-link ${kind}-link`, title: `open the ${kind} page` });
}
