import type { PlainValue } from './row-values.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Rows = { columns: string[]; rows: Record<string, PlainValue>[] };

export const FORMATTERS = {
  json: ({ rows }) => `${JSON.stringify(rows)}\n`,
  csv: ({ columns, rows }) => [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(','))].join('\n') + '\n',
  table: ({ columns, rows }) => renderTable(columns, rows),
} satisfies Record<OutputFormat, (r: Rows) => string>;

function text(value: PlainValue): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvCell(value: PlainValue | string): string {
  const s = text(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const MAX_CELL = 80;

function renderTable(columns: string[], rows: Record<string, PlainValue>[]): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(text(r[c] ?? null))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join(' │ ').trimEnd();
  const out = [line(columns), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

function oneLine(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}
