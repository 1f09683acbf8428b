/**
 * Exit codes a script can test (docs/investigation.md, Exit codes). 1 stays "something went wrong" (commander and
 * the entry point use it); the others say something true about the data, so cron and CI can act on them.
 */
export const EXIT = {
  ok: 0,
  error: 1,
  /** `alerts --exit-code` listed at least one alert (as grep's "found"; 0 = none, 1 = error). */
  alertsFound: 3,
  /** `ingest` read input but parsed not one record from it: wrong --format or --log-line-prefix, or not a log. */
  nothingParsed: 4,
  /** `lake verify` found the lake incomplete or altered; each bad segment is named on stderr. */
  lakeDamaged: 5,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;
