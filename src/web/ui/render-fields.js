// A fields panel: each row as a list of name/value pairs (one session, one alert), values linked by kind.

import { el } from './dom.js';
import { tableCell } from './render-table.js';

export function renderFields(body, panel, { columns, rows }) {
  if (rows.length === 0) return body.append(el('p', { className: 'empty', text: 'Nothing found.' }));
  for (const row of rows) {
    const list = el('dl', { className: 'fields' });
    for (const c of columns) {
      const cell = tableCell(panel.links || {}, c, row);
      list.append(el('dt', { text: c }), el('dd', { className: cell.className, children: [...cell.childNodes] }));
      list.lastChild.dataset.column = c;
    }
    body.append(list);
  }
}
