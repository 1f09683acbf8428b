/**
 * A limit on failed authentication per client address, for the query API's listeners: after `maxFailures`
 * missing or wrong tokens from one address within `windowMs`, that address cools off for `coolOffMs` (the
 * listener answers 429 without comparing its token). The token is long enough that guessing is hopeless
 * anyway; the limit keeps a scanner from making the listener hash and log without end.
 *
 * The table is bounded: at most `maxAddresses` entries, least recently failed first out (expired ones
 * before any other). An attacker rotating addresses therefore pushes its own older addresses out, and each
 * of its addresses still gets `maxFailures` tries per window at most: the table never grows past the bound.
 * The map keeps insertion order, and an entry is moved to the end at each failure, so its first entry is
 * always the one that failed longest ago. No timers: entries expire when they are looked at or pushed out.
 */

export interface FailedAuthLimitOptions {
  maxFailures: number;
  windowMs: number;
  coolOffMs: number;
  maxAddresses: number;
  now?: () => number;
}

/** Ten tries a minute from one address, then a minute of 429s; 10,000 addresses are about 1 MB. */
export const DEFAULT_FAILED_AUTH_LIMIT: Readonly<Required<Omit<FailedAuthLimitOptions, 'now'>>> = {
  maxFailures: 10,
  windowMs: 60_000,
  coolOffMs: 60_000,
  maxAddresses: 10_000,
};

/** How many of the least recently failed entries a full table looks at for an expired one. */
const SWEEP = 8;

interface Entry {
  windowStart: number;
  failures: number;
  /** 0 while the address is not cooling off. */
  coolOffUntil: number;
  /** The first 429 of a cool-off was logged. */
  coolOffWarned: boolean;
}

export class FailedAuthLimit {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: Required<FailedAuthLimitOptions>;

  constructor(opts: Partial<FailedAuthLimitOptions> = {}) {
    this.opts = { ...DEFAULT_FAILED_AUTH_LIMIT, now: Date.now, ...opts };
  }

  /** What the limit is, for messages: failures, window and cool-off in seconds. */
  describe(): string {
    return `${this.opts.maxFailures} within ${this.opts.windowMs / 1000} s cool it off for ${this.opts.coolOffMs / 1000} s`;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Null when the address may try; otherwise the seconds it must wait, and whether this is the first 429 of
   * its cool-off (the one worth a warning).
   */
  coolingOff(address: string): { retryAfterSeconds: number; warn: boolean } | null {
    const entry = this.entries.get(address);
    const now = this.opts.now();
    if (!entry || entry.coolOffUntil <= now) return null;
    const warn = !entry.coolOffWarned;
    entry.coolOffWarned = true;
    return { retryAfterSeconds: Math.ceil((entry.coolOffUntil - now) / 1000), warn };
  }

  /** Counts one missing or wrong token; `warn` is true for the first of the address's window. */
  failed(address: string): { warn: boolean } {
    const now = this.opts.now();
    let entry = this.entries.get(address);
    this.entries.delete(address);
    const warn = !entry || this.expired(entry, now);
    if (!entry || warn) entry = { windowStart: now, failures: 0, coolOffUntil: 0, coolOffWarned: false };
    entry.failures += 1;
    if (entry.failures >= this.opts.maxFailures) {
      entry.coolOffUntil = now + this.opts.coolOffMs;
      entry.coolOffWarned = false;
    }
    this.makeRoom(now);
    this.entries.set(address, entry);
    return { warn };
  }

  /** A window that ended, or a cool-off that did: the next failure starts afresh. */
  private expired(entry: Entry, now: number): boolean {
    return entry.coolOffUntil > 0 ? entry.coolOffUntil <= now : now - entry.windowStart >= this.opts.windowMs;
  }

  /**
   * Room for one more entry: an expired one among the least recently failed out first, else the least recently
   * failed. Only the first few are looked at, so a full table costs the same at every failure.
   */
  private makeRoom(now: number): void {
    if (this.entries.size < this.opts.maxAddresses) return;
    let looked = 0;
    for (const [address, entry] of this.entries) {
      if (this.expired(entry, now)) {
        this.entries.delete(address);
        return;
      }
      if (++looked === SWEEP) break;
    }
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}

/**
 * Whom a request's failures are counted against: the IPv4 address (also when a dual-stack socket maps it into
 * IPv6), or an IPv6 address's /64, which one host usually holds whole (counting each of its addresses would
 * give it 2^64 tries).
 */
export function clientKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!remoteAddress.includes(':')) return remoteAddress;
  const [head = '', tail = ''] = remoteAddress.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = remoteAddress.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}
