/**
 * PostgreSQL's text timestamps as they appear in log_line_prefix (`%t`, `%m`, `%s`), csvlog and jsonlog:
 * `2026-11-24 14:55:15 UTC`, `2026-11-24 14:55:15.123 +04`, `2026-11-24 15:55:15.123 CET`.
 * PostgreSQL prints the zone *abbreviation* of log_timezone, so a name is only usable when it is
 * unambiguous; ambiguous ones (IST, CST, BST) are left out on purpose and give null, never a guess.
 */

/** Minutes east of UTC for the abbreviations tzdata prints and that mean one thing only. */
const ZONE_OFFSET_MINUTES: Readonly<Record<string, number>> = {
  UTC: 0, UCT: 0, GMT: 0, Z: 0, WET: 0, WEST: 60, CET: 60, CEST: 120, MET: 60, MEST: 120,
  EET: 120, EEST: 180, MSK: 180, SAST: 120, EST: -300, EDT: -240, CDT: -300, MST: -420, MDT: -360,
  PST: -480, PDT: -420, AKST: -540, AKDT: -480, HST: -600, JST: 540, KST: 540, HKT: 480,
  AEST: 600, AEDT: 660, ACST: 570, ACDT: 630, AWST: 480, NZST: 720, NZDT: 780,
};

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ?(?:([A-Za-z]{1,6})|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** Start of each recently seen second: consecutive records share seconds, so most lines skip the regex. */
const secondStarts = new Map<string, number>();
const MAX_CACHED_SECONDS = 4096;

/** Parses a PostgreSQL log timestamp; null when it is malformed or its zone cannot be known. */
export function parsePostgresTimestamp(text: string): Date | null {
  // The common shape on Azure and with %m: `YYYY-MM-DD HH:MM:SS.mmm UTC`.
  if (text.length === 27 && text.charCodeAt(19) === 46 /* . */ && text.endsWith(' UTC')) {
    const d0 = text.charCodeAt(20) - 48, d1 = text.charCodeAt(21) - 48, d2 = text.charCodeAt(22) - 48;
    if (d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) {
      const second = text.slice(0, 19);
      let start = secondStarts.get(second);
      if (start === undefined) {
        const parsed = parseSlow(`${second} UTC`);
        if (parsed === null) return null;
        start = parsed.getTime();
        if (secondStarts.size >= MAX_CACHED_SECONDS) secondStarts.clear();
        secondStarts.set(second, start);
      }
      return new Date(start + d0 * 100 + d1 * 10 + d2);
    }
  }
  return parseSlow(text);
}

function parseSlow(text: string): Date | null {
  const m = TIMESTAMP.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zoneName, sign, offH, offM] = m;
  let offset: number | undefined;
  if (zoneName !== undefined) offset = ZONE_OFFSET_MINUTES[zoneName.toUpperCase()];
  else if (sign !== undefined) {
    offset = (Number(offH) * 60 + Number(offM ?? '0')) * (sign === '-' ? -1 : 1);
  }
  if (offset === undefined) return null;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second, millis) - offset * 60_000;
  return Number.isNaN(utc) ? null : new Date(utc);
}

/** `%n`: seconds since the epoch with milliseconds, e.g. `1764204299.360`. */
export function parseEpochSeconds(text: string): Date | null {
  const seconds = Number(text);
  return Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)) : null;
}
