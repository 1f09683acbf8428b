import type { CommittedBatchCounts } from './ingest-pipeline.js';

/** Running totals of an ingest, printed at its end. */
export class IngestSummary {
  records = 0;
  auditEvents = 0;
  sessions = 0;
  authFailures = 0;
  deadLetters = 0;
  skipped = 0;
  lateAttributed = 0;
  privilegeChanges = 0;
  controlPlaneEvents = 0;
  readonly skippedCategories = new Map<string, number>();
  private readonly startedAt = performance.now();

  add(b: CommittedBatchCounts): void {
    this.records += b.records;
    this.auditEvents += b.auditEvents;
    this.sessions += b.sessions;
    this.authFailures += b.authFailures;
    this.deadLetters += b.deadLetters;
    this.skipped += b.skipped;
    this.lateAttributed += b.lateAttributed;
    this.privilegeChanges += b.privilegeChanges;
    this.controlPlaneEvents += b.controlPlaneEvents;
    for (const [category, n] of b.skippedCategories) this.skippedCategories.set(category, (this.skippedCategories.get(category) ?? 0) + n);
  }

  get seconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  toJSON(): Record<string, unknown> {
    const seconds = this.seconds;
    return {
      records: this.records,
      auditEvents: this.auditEvents,
      sessionUpdates: this.sessions,
      authFailures: this.authFailures,
      privilegeChanges: this.privilegeChanges,
      controlPlaneEvents: this.controlPlaneEvents,
      deadLetters: this.deadLetters,
      skipped: this.skipped,
      skippedCategories: Object.fromEntries(this.skippedCategories),
      lateAttributed: this.lateAttributed,
      seconds: Number(seconds.toFixed(3)),
      recordsPerSecond: seconds > 0 ? Math.round(this.records / seconds) : this.records,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  }
}
