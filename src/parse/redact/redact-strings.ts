/**
 * For structured output (alert evidence, webhook bodies, log objects): every string inside a value,
 * however deep, through the text redactor. Keys are kept: they are the program's own names.
 */
import { redactStoredText } from './redact-secrets.js';

/** Deeper than any evidence or log object; a guard against cycles and hostile input. */
const MAX_DEPTH = 32;

export function redactStrings<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactStoredText(value) as T;
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactStrings(v, depth + 1);
  return out as T;
}
