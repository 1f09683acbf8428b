/**
 * Decoding the content of a quoted token one level down, with a map back to the original
 * positions, and encoding replacement text for that level. This is what lets the redactor
 * treat `'create role x password ''hunter2'''` as the SQL it will run and still edit the
 * original text in place: each nesting level is decoded, scanned, and its edits mapped back.
 */
import type { QuoteStyle, Token } from './sql-lexer.js';

export interface Decoded {
  text: string;
  /** map[i] is where decoded unit i starts in the original; map[text.length] is the content end. */
  map: number[];
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function pushUnits(out: string[], map: number[], value: string, start: number, end: number): void {
  for (let k = 0; k < value.length; k++) {
    out.push(value[k] as string);
    map.push(k === 0 ? start : end);
  }
}

function fromCodePoint(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : '';
}

/** Length of a backslash escape at `i` in an E'' string and what it stands for. */
function escapeAt(src: string, i: number, end: number): [number, string] {
  const c = src[i + 1];
  if (c === undefined || i + 1 >= end) return [1, '\\'];
  if (c in SIMPLE_ESCAPES) return [2, SIMPLE_ESCAPES[c] as string];
  let m: RegExpExecArray | null;
  const rest = src.slice(i + 1, Math.min(end, i + 10));
  if ((m = /^[0-7]{1,3}/.exec(rest))) return [1 + m[0].length, String.fromCharCode(Number.parseInt(m[0], 8) & 0xff)];
  if ((m = /^x([0-9A-Fa-f]{1,2})/.exec(rest))) return [1 + m[0].length, fromCodePoint(m[1] as string)];
  if ((m = /^u([0-9A-Fa-f]{4})/.exec(rest))) return [1 + m[0].length, fromCodePoint(m[1] as string)];
  if ((m = /^U([0-9A-Fa-f]{8})/.exec(rest))) return [1 + m[0].length, fromCodePoint(m[1] as string)];
  return [2, c];
}

/** Decodes `src[from, to)` written in `style` (the content of a token, without its quotes). */
export function decodeRange(src: string, from: number, to: number, style: QuoteStyle): Decoded {
  const out: string[] = [];
  const map: number[] = [];
  let i = from;
  const quote = style === 'qident' ? '"' : "'";
  while (i < to) {
    const c = src[i] as string;
    if (style !== 'dollar' && style !== 'raw' && c === quote && src[i + 1] === quote) {
      pushUnits(out, map, quote, i, i + 2);
      i += 2;
    } else if (style === 'escape' && c === '\\') {
      const [len, value] = escapeAt(src, i, to);
      pushUnits(out, map, value, i, i + len);
      i += len;
    } else if (style === 'unicode' && c === '\\') {
      const m = /^\\(?:\\|([0-9A-Fa-f]{4})|\+([0-9A-Fa-f]{6}))/.exec(src.slice(i, Math.min(to, i + 8)));
      if (m) {
        const value = m[1] ? fromCodePoint(m[1]) : m[2] ? fromCodePoint(m[2]) : '\\';
        pushUnits(out, map, value, i, i + m[0].length);
        i += m[0].length;
      } else {
        pushUnits(out, map, c, i, i + 1);
        i++;
      }
    } else {
      pushUnits(out, map, c, i, i + 1);
      i++;
    }
  }
  map.push(to);
  return { text: out.join(''), map };
}

export function decodeToken(src: string, t: Token): Decoded {
  return decodeRange(src, t.contentStart, t.contentEnd, t.style);
}

/** Writes decoded `text` so that it reads back the same inside a token of `style`. */
export function encodeFor(style: QuoteStyle, text: string): string {
  switch (style) {
    case 'standard':
      return text.replaceAll("'", "''");
    case 'escape':
    case 'unicode':
      return text.replaceAll('\\', '\\\\').replaceAll("'", "''");
    case 'qident':
      return text.replaceAll('"', '""');
    case 'dollar':
    case 'raw':
      return text;
    default: {
      const never: never = style;
      return never;
    }
  }
}
