import type { PlainValue } from './row-values.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Rows = { columns: string[]; rows: Record<string, PlainValue>[] };

/** How a table is laid out for a reader; CSV and JSON ignore it (they are for programs, whole). */
export interface TableLayout {
  /** Columns of the terminal; cells are cut with … to fit. Infinity (a pipe, --wide) cuts nothing. */
  width?: number;
  /** One field per line, as psql's \x: for rows too wide for any width. */
  expanded?: boolean;
}

export const FORMATTERS = {
  json: ({ rows }) => `${JSON.stringify(rows)}\n`,
  csv: ({ columns, rows }) => [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(','))].join('\n') + '\n',
  table: ({ columns, rows }, layout = {}) => (layout.expanded ? renderExpanded(columns, rows, layout.width ?? Infinity) : renderTable(columns, rows, layout.width ?? Infinity)),
} satisfies Record<OutputFormat, (r: Rows, layout?: TableLayout) => string>;

function text(value: PlainValue): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvCell(value: PlainValue | string): string {
  const s = text(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const SEPARATOR = ' │ ';
/** Narrower than this a column says nothing; past it the table wraps rather than shrink further. */
const MIN_COLUMN = 4;

function renderTable(columns: string[], rows: Record<string, PlainValue>[], width: number): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(text(r[c] ?? null))));
  // A fold, not Math.max(...): a spread of a hundred thousand rows overflows the call stack.
  const natural = columns.map((c, i) => cells.reduce((widest, row) => Math.max(widest, row[i]!.length), c.length));
  const widths = fitWidths(natural, width, SEPARATOR.length);
  // Too many columns to fit even cut to a few characters: one field per line says more than a row of "…".
  if (tableWidth(widths, SEPARATOR.length) > width) return renderExpanded(columns, rows, width);
  const line = (values: string[]) => values.map((v, i) => cut(v, widths[i]!).padEnd(widths[i]!)).join(SEPARATOR).trimEnd();
  const out = [line(columns), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line)];
  out.push(rowCount(rows.length));
  return out.join('\n') + '\n';
}

function renderExpanded(columns: string[], rows: Record<string, PlainValue>[], width: number): string {
  const keyWidth = Math.max(0, ...columns.map((c) => c.length));
  const valueWidth = Math.max(MIN_COLUMN, width - keyWidth - SEPARATOR.length);
  const out: string[] = [];
  rows.forEach((r, i) => {
    const header = `-[ RECORD ${i + 1} ]`;
    out.push(header + '-'.repeat(Math.max(0, Math.min(width, keyWidth + SEPARATOR.length + 20) - header.length)));
    for (const c of columns) out.push(`${c.padEnd(keyWidth)}${SEPARATOR}${cut(oneLine(text(r[c] ?? null)), valueWidth)}`.trimEnd());
  });
  if (rows.length === 0) out.push(rowCount(0));
  return out.join('\n') + '\n';
}

/** The first column names the row (an id, a role): it is cut only past this. */
const KEY_COLUMN = 24;

/**
 * Column widths that fit `total` columns of screen: the widest column gives way first, one character at a
 * time, so short columns (severities, counts) and the first, naming column stay whole while a long summary is cut.
 */
export function fitWidths(natural: number[], total: number, separator: number): number[] {
  const widths = [...natural];
  const floor = natural.map((n, i) => Math.min(n, i === 0 ? KEY_COLUMN : MIN_COLUMN));
  while (tableWidth(widths, separator) > total) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
  }
  return widths;
}

function tableWidth(widths: number[], separator: number): number {
  return widths.reduce((a, b) => a + b, 0) + separator * Math.max(0, widths.length - 1);
}

function cut(s: string, width: number): string {
  return s.length > width ? `${s.slice(0, Math.max(0, width - 1))}…` : s;
}

function rowCount(n: number): string {
  return `(${n} row${n === 1 ? '' : 's'})`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ⏎ ');
}
