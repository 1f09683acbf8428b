// A number panel: one value from the first row.

import { el } from './dom.js';

export function renderNumber(body, panel, { columns, rows }) {
  const column = panel.value || columns[0];
  const value = rows.length ? rows[0][column] : null;
  const missing = value === null || value === undefined;
  const div = el('div', { className: 'number', text: missing ? '–' : String(value) });
  div.dataset.value = missing ? '' : String(value);
  body.append(div);
}
