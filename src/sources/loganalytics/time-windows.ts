/** Half-open time windows [start, end) on a fixed grid, so a restarted backfill asks for the same windows. */
export interface TimeWindow {
  start: Date;
  end: Date;
}

export function gridWindows(since: Date, until: Date, windowMs: number): TimeWindow[] {
  if (!(since < until)) throw new Error(`the range is empty: ${since.toISOString()} is not before ${until.toISOString()}`);
  const out: TimeWindow[] = [];
  let start = since.getTime();
  // Align the first boundary to the grid (e.g. whole hours), so windows stay the same whatever --since was.
  let next = (Math.floor(start / windowMs) + 1) * windowMs;
  while (start < until.getTime()) {
    const end = Math.min(next, until.getTime());
    out.push({ start: new Date(start), end: new Date(end) });
    start = end;
    next += windowMs;
  }
  return out;
}

export function halve(w: TimeWindow): [TimeWindow, TimeWindow] {
  const mid = new Date(w.start.getTime() + Math.floor((w.end.getTime() - w.start.getTime()) / 2));
  return [{ start: w.start, end: mid }, { start: mid, end: w.end }];
}
