// The saved queries (queries/*.sql): a list of them all, and one page per query with its text, a form for
// its parameters and its rows, so every saved question can be asked from the browser.

import { getJson, queryString } from './api.js';
import { el, labelled, setTitle, showNotice } from './dom.js';
import { renderTable } from './render-table.js';

/** Columns that name something with a page of its own, whatever the query. */
const COLUMN_LINKS = {
  actor: 'role', acting_role: 'role', role_name: 'role', rolname: 'role', user_name: 'role', grantee: 'role', granted_role: 'role',
  member: 'role', created_by: 'role', power_role: 'role', session_id: 'session', client_addr: 'client', source_addr: 'client',
  caller_ip: 'client', server: 'server', alert_id: 'alert', summary: 'alert', attribute: 'setting',
};

export async function renderQueryList() {
  const { queries, errors } = await getJson('/api/queries');
  setTitle('Saved queries', `Every saved question in queries/ (${queries.length}): open one to read its SQL and run it with your own parameters.`);
  document.getElementById('pickers').hidden = true;
  for (const e of errors) showNotice(`${e.path}: ${e.error}`);
  const table = el('table', { id: 'query-list' });
  table.append(el('thead', { children: [el('tr', { children: ['query', 'what it answers', 'parameters'].map((t) => el('th', { text: t })) })] }));
  const tbody = el('tbody');
  for (const q of queries) {
    const params = q.params.map((p) => `${p.name}${p.defaultValue === undefined ? ' (required)' : ''}`).join(', ');
    tbody.append(
      el('tr', {
        children: [
          el('td', { children: [el('a', { href: `/sql/${q.name}`, text: q.name, className: 'query-link' })] }),
          el('td', { text: q.description, className: 'wide' }),
          el('td', { text: params || '–' }),
        ],
      }),
    );
  }
  table.append(tbody);
  const section = el('section', { className: 'panel full', children: [el('div', { className: 'table-wrap tall', children: [table] })] });
  document.getElementById('panels').append(section);
}

export async function renderQueryPage(name) {
  const { queries } = await getJson('/api/queries');
  const query = queries.find((q) => q.name === name);
  if (!query) {
    setTitle(name, '');
    showNotice(`No saved query named "${name}". See all of them under Saved queries.`);
    return;
  }
  setTitle(`${query.name}.sql`, query.description);
  document.getElementById('pickers').hidden = true;
  const given = Object.fromEntries(new URLSearchParams(location.search));

  const form = el('form', { id: 'query-form', className: 'pickers query-form' });
  for (const p of query.params) form.append(paramInput(p, given[p.name]));
  form.append(el('button', { type: 'submit', text: 'Run', id: 'run-query' }));
  const csv = el('a', { text: 'CSV', className: 'csv-link', download: '', hidden: true });
  const result = el('div', { className: 'panel-body', id: 'query-result' });
  const resultCard = el('section', { className: 'panel full', id: 'query-rows', children: [el('div', { className: 'panel-head', children: [el('h2', { text: 'Rows' }), el('div', { className: 'panel-links', children: [csv] })] }), result] });
  const sqlCard = el('section', { className: 'panel full', children: [el('div', { className: 'panel-head', children: [el('h2', { text: 'SQL' })] }), el('p', { className: 'panel-description', text: `From the command line: auditduck query ${query.name}${query.params.map((p) => ` --param ${p.name}=…`).join('')}` }), el('pre', { className: 'sql', text: query.sql })] });
  const panels = document.getElementById('panels');
  panels.append(el('section', { className: 'panel full', children: [el('div', { className: 'panel-head', children: [el('h2', { text: 'Parameters' })] }), form] }), resultCard, sqlCard);

  const run = async (values) => {
    const qs = queryString(values);
    history.replaceState(null, '', `${location.pathname}${qs}`);
    resultCard.dataset.state = 'loading';
    result.replaceChildren(el('span', { className: 'loading', text: 'running…' }));
    try {
      const rows = await getJson(`/api/queries/${query.name}${qs}`);
      result.replaceChildren();
      renderTable(result, { links: linksFor(rows.columns) }, rows, {});
      resultCard.dataset.state = 'ready';
      resultCard.dataset.rows = String(rows.rows.length);
      csv.href = `/api/queries/${query.name}.csv${qs}`;
      csv.hidden = false;
    } catch (error) {
      result.replaceChildren(el('div', { className: 'panel-error', role: 'alert', text: `The query failed:\n${error.message}` }));
      resultCard.dataset.state = 'error';
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = {};
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') values[k] = String(v).trim();
    run(values);
  });
  // Opened with every required value (a link, a bookmark): run it straight away.
  const known = Object.fromEntries(Object.entries(given).filter(([k]) => query.params.some((p) => p.name === k)));
  if (query.params.every((p) => p.defaultValue !== undefined || known[p.name])) run(known);
  else resultCard.dataset.state = 'waiting';
}

function paramInput(p, given) {
  const required = p.defaultValue === undefined;
  const hint = p.defaultValue === undefined ? 'required' : p.defaultValue === null ? 'default: NULL (all)' : `default: ${p.defaultValue}`;
  let input;
  if (p.type === 'bool') {
    input = el('select', { name: p.name, id: `param-${p.name}` });
    for (const [value, text] of [['', hint], ['true', 'true'], ['false', 'false']]) input.append(el('option', { value, text, selected: value === (given ?? '') }));
  } else {
    input = el('input', {
      name: p.name,
      id: `param-${p.name}`,
      type: p.type === 'int' ? 'number' : 'text',
      value: given ?? '',
      placeholder: p.type === 'time' ? `${hint} · ISO time or 7 days` : hint,
      required,
    });
  }
  const label = labelled(`${p.name}${p.type !== 'text' ? ` (${p.type})` : ''}`, input);
  if (p.description) label.title = p.description;
  return label;
}

function linksFor(columns) {
  return Object.fromEntries(columns.filter((c) => COLUMN_LINKS[c]).map((c) => [c, COLUMN_LINKS[c]]));
}
