/**
 * Joins an Activity Log operation's halves. Azure writes a `Start` record that holds the request body (what
 * was asked for: the firewall range, the parameter value, the new admin password), then `Accept` for
 * asynchronous operations, then `Success` or `Failure` usually without it. The outcome is what the rules
 * judge, so it gets the value of its Start, matched by correlation id, operation and resource.
 *
 * Input contract: events in any order, within and across batches (the hub spreads records round-robin).
 * - Start before its outcome (same or earlier batch): the outcome is filled before it is stored.
 * - Outcome before its Start (an earlier batch): the outcome row is stored without the value; when the Start
 *   arrives within `holdMinutes`, `completed` carries the outcome filled in, for the store to update and for
 *   the rules to judge then.
 * - Only one half ever arrives (Azure's logs are not lossless), the other is later than `holdMinutes`, or the
 *   process restarted in between (the state is in memory only): each row keeps what its own record says.
 */
import type { ControlPlaneEvent } from '../../contracts/control-plane-event.js';

export interface RequestJoinerOptions {
  /** How long, in event time, a half waits for the other. Long operations (a server update) take minutes. */
  holdMinutes?: number;
  /** Bound on the halves kept waiting; the oldest go first. */
  maxPending?: number;
}

export interface JoinedEvents {
  /** The batch's events, outcomes filled from their Start where one is known. */
  events: ControlPlaneEvent[];
  /** Outcomes of earlier batches whose Start arrived in this one, filled in, with `completedLate`. */
  completed: ControlPlaneEvent[];
}

interface RequestHalf {
  at: number;
  value: string;
  request: unknown;
}

const REQUEST_STATUSES = new Set(['start', 'accept']);
const OUTCOME_STATUSES = new Set(['success', 'failure']);

export class RequestJoiner {
  private readonly requests = new Map<string, RequestHalf>();
  /** Outcomes stored without a value, waiting for their Start. */
  private readonly waiting = new Map<string, ControlPlaneEvent>();
  private readonly holdMs: number;
  private readonly maxPending: number;
  private latest = 0;

  constructor(opts: RequestJoinerOptions = {}) {
    this.holdMs = (opts.holdMinutes ?? 360) * 60_000;
    this.maxPending = opts.maxPending ?? 50_000;
  }

  join(batch: readonly ControlPlaneEvent[]): JoinedEvents {
    const completed: ControlPlaneEvent[] = [];
    // Requests first, so an outcome earlier in the batch than its Start is still filled.
    for (const e of batch) {
      this.latest = Math.max(this.latest, e.loggedAt.getTime());
      const k = keyOf(e);
      if (k === null || e.status === null || !REQUEST_STATUSES.has(e.status) || e.requestedValue === null || e.requestedFrom !== 'request') continue;
      if (!this.requests.has(k)) this.requests.set(k, { at: e.loggedAt.getTime(), value: e.requestedValue, request: e.request });
      const earlier = this.waiting.get(k);
      if (earlier) {
        this.waiting.delete(k);
        completed.push({ ...fill(earlier, this.requests.get(k)!), completedLate: true });
      }
    }
    const events = batch.map((e) => {
      const k = keyOf(e);
      if (k === null || e.status === null || !OUTCOME_STATUSES.has(e.status) || e.requestedFrom === 'request') return e;
      const request = this.requests.get(k);
      if (request) return fill(e, request);
      if (e.requestedValue === null) this.waiting.set(k, e);
      return e;
    });
    this.expire();
    return { events, completed };
  }

  /** Halves waiting now (for tests and metrics). */
  get pending(): number {
    return this.requests.size + this.waiting.size;
  }

  private expire(): void {
    const before = this.latest - this.holdMs;
    for (const [k, r] of this.requests) if (r.at < before) this.requests.delete(k);
    for (const [k, e] of this.waiting) if (e.loggedAt.getTime() < before) this.waiting.delete(k);
    trim(this.requests, this.maxPending);
    trim(this.waiting, this.maxPending);
  }
}

function fill(outcome: ControlPlaneEvent, request: RequestHalf): ControlPlaneEvent {
  return { ...outcome, requestedValue: request.value, requestedFrom: 'start', request: request.request };
}

function keyOf(e: ControlPlaneEvent): string | null {
  return e.correlationId === null ? null : `${e.correlationId}\u0000${e.operation}\u0000${e.resourceId}`;
}

/** Drops the oldest entries (Map keeps insertion order) beyond `max`. */
function trim<V>(map: Map<string, V>, max: number): void {
  for (const k of map.keys()) {
    if (map.size <= max) return;
    map.delete(k);
  }
}
