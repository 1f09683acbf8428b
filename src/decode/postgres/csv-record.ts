/**
 * The CSV dialect of PostgreSQL's csvlog: `,` separated, `"` quoted with `""` inside, newlines only
 * inside quotes. A small scanner instead of csv-parse because it runs once per log record.
 */

/** Number of `"` in a line; a record is complete when the count over its lines is even. */
export function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++;
  return n;
}

/** Splits one complete record into its fields (quotes removed); null when the quoting is malformed. */
export function splitCsvRecord(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) return null; // unterminated quote
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 34) { value += '"'; from = q + 2; continue; }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return fields;
      if (text.charCodeAt(i) !== 44 /* , */) return null; // text after a closing quote
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? n : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return null; // a quote inside an unquoted field
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}
