/**
 * The severities PostgreSQL writes after the prefix (`LOG:  text`). A *main* level starts a log
 * entry; a *sub* level (DETAIL, HINT, ...) is a further line of the entry just before it.
 * English only: servers with a translated lc_messages write other words and their lines become dead letters.
 */
export const MAIN_LEVELS = [
  'LOG', 'NOTICE', 'WARNING', 'ERROR', 'FATAL', 'PANIC', 'INFO',
  'DEBUG1', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'DEBUG5',
] as const;
export const SUB_LEVELS = ['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION'] as const;

export type MainLevel = (typeof MAIN_LEVELS)[number];
export type SubLevel = (typeof SUB_LEVELS)[number];

const MAIN = new Set<string>(MAIN_LEVELS);
const SUB = new Set<string>(SUB_LEVELS);

export function isMainLevel(level: string): level is MainLevel {
  return MAIN.has(level);
}
export function isSubLevel(level: string): level is SubLevel {
  return SUB.has(level);
}

/** Regex alternation of every level; longest first is not needed because each is followed by `:`. */
export const LEVEL_ALTERNATION = [...MAIN_LEVELS, ...SUB_LEVELS].join('|');

// PostgreSQL writes `LEVEL:  text` (two spaces); one space or none at end of line is tolerated.
const LEVEL_LINE = new RegExp(`^(${LEVEL_ALTERNATION}):(?: {1,2}|$)`);

/** Splits `ERROR:  text` into level and text; null when the line does not start with a known level. */
export function splitLevel(rest: string): { level: string; text: string } | null {
  const m = LEVEL_LINE.exec(rest);
  if (m === null) return null;
  return { level: m[1] as string, text: rest.slice(m[0].length) };
}
