// A table panel: one row per result row, values linked by their column's kind, JSON folded, times with
// their zone. Tables with `acknowledge` get a checkbox per open alert and the acknowledge controls.

import { ackControls } from './ack-form.js';
import { el } from './dom.js';
import { entityLink } from './entity-links.js';
import { plainText } from './time-format.js';

export function renderTable(body, panel, { columns, rows }, ctx) {
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: 'No rows in this range.' }));
  const ackable = panel.acknowledge && columns.includes('alert_id');
  if (ackable) {
    body.append(
      ackControls({
        list: ctx.list,
        ids: () => [...body.querySelectorAll('input.ack-box:checked')].map((b) => Number(b.value)),
        label: 'Acknowledge selected',
      }),
    );
  }
  const table = el('table');
  const head = el('tr');
  if (ackable) head.append(el('th', { text: '' }));
  for (const c of columns) head.append(el('th', { text: c }));
  table.append(el('thead', { children: [head] }));
  const tbody = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    if (ackable) {
      const box = el('input', { type: 'checkbox', className: 'ack-box', value: String(row.alert_id), disabled: row.status !== 'open', 'aria-label': `select alert ${row.alert_id}` });
      tr.append(el('td', { children: [box] }));
    }
    for (const c of columns) tr.append(tableCell(panel.links || {}, c, row));
    tr.dataset.key = String(row[columns[0]]);
    tbody.append(tr);
  }
  table.append(tbody);
  body.append(el('div', { className: 'table-wrap', children: [table] }));
}

export function tableCell(links, column, row) {
  const value = row[column];
  const td = el('td', { className: 'cell' });
  td.dataset.column = column;
  if (value === null || value === undefined) return td;
  if (typeof value === 'number') td.classList.add('num');
  if (column === 'severity') td.classList.add(`sev-${value}`);
  if (column === 'summary' || column === 'statement') td.classList.add('wide');
  const kind = links[column];
  if (kind && (typeof value === 'string' || typeof value === 'number') && value !== '') {
    td.append(entityLink(kind, value, row, plainText(value)));
    td.title = plainText(value);
    return td;
  }
  const json = typeof value === 'string' && value.startsWith('{') ? parseJson(value) : undefined;
  if ((typeof value === 'object' && !Array.isArray(value)) || json !== undefined) {
    // Evidence and other JSON: folded, so the table stays readable.
    td.classList.remove('cell');
    td.append(el('details', { children: [el('summary', { text: 'show' }), el('pre', { text: JSON.stringify(json ?? value, null, 2) })] }));
    return td;
  }
  const text = Array.isArray(value) ? value.map(plainText).join(', ') : plainText(value);
  td.textContent = text;
  td.title = text;
  return td;
}

/** JSON columns (evidence) arrive as text; undefined when the text is not JSON after all. */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
