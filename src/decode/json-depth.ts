/**
 * A bound on how deeply decoded JSON may nest. `JSON.parse` itself does not recurse, but every later walk
 * (stringify, redaction, a dead letter's raw text) does: a record nested 200,000 levels deep would overflow
 * the stack there, stop the ingest and, in `run`, block its partition on every retry. Real Azure records
 * nest about six levels; the bound is far above that and far below the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays or objects deeper than `limit` levels; walks with a stack of its own. */
export function nestsDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

export function tooDeepReason(what: string, limit = MAX_JSON_DEPTH): string {
  return `${what} nests deeper than ${limit} levels: not read (no real record does; a guard against hostile input)`;
}

/** JSON text of a value that may nest too deeply: what lies below `limit` levels is written as `"…"`. */
export function stringifyShallow(value: unknown, limit = MAX_JSON_DEPTH): string {
  const cut = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= limit) return '…';
    if (Array.isArray(v)) return v.map((c) => cut(c, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, c]) => [k, cut(c, depth + 1)]));
  };
  return JSON.stringify(cut(value, 0)) ?? String(value);
}
