/**
 * The replacement marks and the edit list every redaction step produces: a step only says which
 * span to replace with what (and what it learned), and applyEdits builds the new text once.
 */
import type { SecretFinding } from './secret-finding.js';

export const REDACTED = '<REDACTED>';
export const REDACTED_LITERAL = `'${REDACTED}'`;

export interface Edit {
  start: number;
  end: number;
  replacement: string;
  finding: SecretFinding | null;
}

/** Applies non-overlapping edits (the first one wins on overlap). */
export function applyEdits(src: string, edits: readonly Edit[]): { text: string; secrets: SecretFinding[] } {
  const sorted = [...edits].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  const secrets: SecretFinding[] = [];
  for (const e of sorted) {
    if (e.start < at) continue;
    out += src.slice(at, e.start) + e.replacement;
    at = e.end;
    if (e.finding) secrets.push(e.finding);
  }
  return { text: out + src.slice(at), secrets };
}
