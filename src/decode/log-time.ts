/**
 * The times a log record may carry. Anything outside is no log time but damage or hostile input (year 99999
 * parses as a date and DuckDB would store it, sorting it after every real record and into every "latest"):
 * such a record becomes a dead letter with this reason instead of a row.
 */
const EARLIEST = Date.UTC(1970, 0, 1);
/** The last instant with a four-digit year, as PostgreSQL and ISO 8601 write log times. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Why `at` cannot be a log time, or null when it can. */
export function logTimeProblem(at: Date): string | null {
  const ms = at.getTime();
  if (Number.isNaN(ms)) return 'its time is not a valid date';
  if (ms < EARLIEST || ms > LATEST) return `its time ${describe(at)} is outside 1970-01-01..9999-12-31: not a log time`;
  return null;
}

function describe(at: Date): string {
  const year = at.getUTCFullYear();
  return year >= 0 && year <= 9999 ? at.toISOString() : `in the year ${year}`;
}
