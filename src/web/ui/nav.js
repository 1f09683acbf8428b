// The header: dashboards in the navigation (pages reached by links are left out), saved queries, theme.

import { el } from './dom.js';
import { themeToggle } from './theme.js';

export function renderNav(dashboards, current) {
  const nav = document.getElementById('nav');
  const here = new URLSearchParams(location.search);
  const keep = new URLSearchParams();
  for (const key of ['since', 'until', 'server']) if (here.get(key)) keep.set(key, here.get(key));
  for (const d of dashboards) {
    if (d.nav === false) continue;
    const a = el('a', { href: `/d/${d.name}${keep.size ? `?${keep}` : ''}`, text: d.title });
    if (d.name === current) a.className = 'current';
    nav.append(a);
  }
  const queries = el('a', { href: '/queries', text: 'Saved queries', id: 'nav-queries' });
  if (current === 'queries') queries.className = 'current';
  nav.append(queries);
  document.querySelector('header.top').append(themeToggle());
}
