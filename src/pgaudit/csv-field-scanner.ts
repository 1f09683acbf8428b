/**
 * The CSV flavour pgaudit writes (its `append_valid_csv`): a field is wrapped in double quotes only when
 * it holds `,` `"` CR or LF, and inner quotes are doubled. Nothing else is ever quoted, so an unquoted
 * field can never hold a quote or a line break; finding one means the text was not written by pgaudit
 * (or was cut short), and we say so instead of guessing.
 *
 * The scanner records where each field lies instead of slicing strings, so the caller only allocates
 * the strings it keeps and can read numbers straight from the text. It is used twice per entry: for the
 * AUDIT fields and for the bind parameters inside the PARAMETER field (CSV in CSV).
 */
import { ParseError } from '../contracts/log-record.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** How a field was written; tells the reader whether quotes must be undone. */
export const FieldForm = {
  plain: 0,
  quoted: 1,
  /** Quoted and holding doubled quotes (`""`) that stand for one `"`. */
  quotedWithEscapes: 2,
} as const;
export type FieldForm = (typeof FieldForm)[keyof typeof FieldForm];

/**
 * Reusable field positions (content ranges exclude the surrounding quotes). One cursor per use site,
 * reused across calls, so the hot path allocates nothing for bookkeeping.
 */
export class FieldCursor {
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly forms: FieldForm[] = [];

  /**
   * @param capacity fields beyond this many are counted but not recorded (the caller rejects them anyway).
   * @param fieldNoun names a field in error messages ("field", "parameter").
   */
  constructor(
    readonly capacity: number,
    readonly fieldNoun: string,
  ) {}

  /** The field's value with quotes undone. */
  value(text: string, index: number): string {
    const start = this.starts[index]!;
    const end = this.ends[index]!;
    const raw = text.slice(start, end);
    return this.forms[index] === FieldForm.quotedWithEscapes ? raw.replaceAll('""', '"') : raw;
  }

  /** Cheap equality with a constant, without slicing; only plain fields can be markers. */
  isPlain(text: string, index: number, expected: string): boolean {
    const start = this.starts[index]!;
    return (
      this.forms[index] === FieldForm.plain &&
      this.ends[index]! - start === expected.length &&
      text.startsWith(expected, start)
    );
  }

  length(index: number): number {
    return this.ends[index]! - this.starts[index]!;
  }
}

/**
 * Splits `text[pos, end)` into fields, recording them in `cursor`, and returns how many there are
 * (an empty range is one empty field). Throws ParseError on an unterminated quote, text after a
 * closing quote, or a quote / line break in an unquoted field. Messages carry offsets, never content:
 * they end up in dead letters and the content may hold secrets.
 */
export function scanCsvFields(text: string, pos: number, end: number, cursor: FieldCursor): number {
  const { starts, ends, forms, capacity } = cursor;
  let count = 0;
  for (;;) {
    let fieldStart: number;
    let fieldEnd: number;
    let form: FieldForm;
    if (pos < end && text.charCodeAt(pos) === QUOTE) {
      fieldStart = pos + 1;
      form = FieldForm.quoted;
      let search = fieldStart;
      for (;;) {
        const quote = text.indexOf('"', search);
        if (quote === -1 || quote >= end) {
          throw new ParseError(
            `unterminated quoted ${cursor.fieldNoun} ${count + 1} (quote opened at offset ${pos})`,
          );
        }
        if (quote + 1 < end && text.charCodeAt(quote + 1) === QUOTE) {
          form = FieldForm.quotedWithEscapes;
          search = quote + 2;
          continue;
        }
        fieldEnd = quote;
        pos = quote + 1;
        break;
      }
      if (pos < end && text.charCodeAt(pos) !== COMMA) {
        throw new ParseError(
          `text after the closing quote of ${cursor.fieldNoun} ${count + 1} (offset ${pos}); expected a comma`,
        );
      }
    } else {
      fieldStart = pos;
      while (pos < end) {
        const c = text.charCodeAt(pos);
        if (c === COMMA) break;
        if (c === QUOTE || c === LF || c === CR) {
          throw new ParseError(
            `unquoted ${cursor.fieldNoun} ${count + 1} holds a ${c === QUOTE ? 'quote' : 'line break'} ` +
              `at offset ${pos}; pgaudit quotes such fields`,
          );
        }
        pos++;
      }
      fieldEnd = pos;
      form = FieldForm.plain;
    }
    if (count < capacity) {
      starts[count] = fieldStart;
      ends[count] = fieldEnd;
      forms[count] = form;
    }
    count++;
    if (pos >= end) return count;
    pos++; // the comma; a comma at the very end opens one more (empty) field
  }
}
