/**
 * Durations as people type them on a command line: `7 days`, `36h`, `90m`, `2w`, `1 day 6 hours`, or ISO
 * 8601 `PT1H` / `P7D`. Returns milliseconds, or null when the text is not a duration (so callers can try
 * it as a time instead).
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gi;
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  const iso = ISO.exec(s);
  if (iso && s.length > 1 && !/T$/i.test(s)) {
    const [, w, d, h, m, sec] = iso;
    return (Number(w ?? 0) * 7 + Number(d ?? 0)) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(sec ?? 0) * 1_000;
  }
  let total = 0;
  let consumed = '';
  for (const m of s.matchAll(PART)) {
    const unit = UNIT_MS[m[2]!.toLowerCase()];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    consumed += m[0];
  }
  // Everything but spaces must have been a number+unit pair: `2026-11-20` is a time, not a duration.
  return consumed.replace(/\s+/g, '') === s.replace(/\s+/g, '') && consumed !== '' ? total : null;
}

/** A point in time as typed on a command line: an ISO time, or a duration back from `now`. */
export function parseTimeOrAgo(text: string, now: Date): Date | null {
  const ms = parseDuration(text);
  if (ms !== null) return new Date(now.getTime() - ms);
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : new Date(t);
}

export function requireTimeOrAgo(option: string, text: string, now: Date): Date {
  const t = parseTimeOrAgo(text, now);
  if (t === null) throw new Error(`${option} ${text} is neither a duration back from now ('7 days', '36h', 'PT1H') nor an ISO time`);
  return t;
}
