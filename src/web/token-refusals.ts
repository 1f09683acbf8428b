/**
 * What a listener that takes a token does about missing and wrong ones, the same for the query API's listeners
 * and the dashboards: whom a failure is counted against (the peer, or the client a trusted proxy forwarded for:
 * client-address.ts), when that address cools off (failed-auth-limit.ts), the count of each refusal per reason,
 * and a warning once per address and window (the first refusal, then the first 429 of a cool-off) that names the
 * address and never the token. Answering is the listener's: each speaks its own format.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { clientAddress, type TrustedProxies } from './client-address.js';
import { clientKey, FailedAuthLimit, type FailedAuthLimitOptions } from './failed-auth-limit.js';

/** Why a token was refused: none sent, a wrong one, or the address cooling off (its token not compared). */
export type TokenRefusalReason = 'missing-token' | 'wrong-token' | 'cooling-off';

export interface TokenRefusalsOptions {
  /** How the warnings name the listener: `query API (fleet)`, `dashboards`. */
  name: string;
  /** The peers whose X-Forwarded-For names the client. */
  proxies: TrustedProxies;
  /** Overrides of DEFAULT_FAILED_AUTH_LIMIT (tests). */
  limit?: Partial<FailedAuthLimitOptions> | undefined;
  /** The redacting logger; none: not logged. */
  log?: Logger | undefined;
  /** Fields each warning carries besides the address (the query API's `listener`). */
  fields?: Record<string, string>;
  /** Each refusal, for a metric. */
  onRefused?: ((reason: TokenRefusalReason) => void) | undefined;
}

export class TokenRefusals {
  private readonly failures: FailedAuthLimit;

  constructor(private readonly opts: TokenRefusalsOptions) {
    this.failures = new FailedAuthLimit(opts.limit);
  }

  /** The seconds to send in Retry-After when the request's client is cooling off (then counted, logged once); else null. */
  coolingOff(req: IncomingMessage): number | null {
    const client = this.client(req);
    const coolingOff = this.failures.coolingOff(client.address);
    if (!coolingOff) return null;
    this.opts.onRefused?.('cooling-off');
    if (coolingOff.warn) {
      this.opts.log?.warn(
        { ...client.fields, retryAfterSeconds: coolingOff.retryAfterSeconds },
        `${this.opts.name}: too many missing or wrong tokens from ${client.from}: cooling off, answering 429 for ${coolingOff.retryAfterSeconds} s`,
      );
    }
    return coolingOff.retryAfterSeconds;
  }

  /** Counts a missing or wrong token against the request's client; warns at the first of its window. */
  failed(req: IncomingMessage, reason: Exclude<TokenRefusalReason, 'cooling-off'>): void {
    const client = this.client(req);
    this.opts.onRefused?.(reason);
    if (this.failures.failed(client.address).warn) {
      this.opts.log?.warn(
        { ...client.fields, reason },
        `${this.opts.name}: refused a ${reason === 'missing-token' ? 'missing' : 'wrong'} token from ${client.from}; further refusals from it in this window are counted, not logged (${this.failures.describe()})`,
      );
    }
  }

  private client(req: IncomingMessage): { address: string; from: string; fields: Record<string, string> } {
    const client = clientAddress(req, this.opts.proxies);
    const address = clientKey(client.address);
    return {
      address,
      from: client.via === undefined ? address : `${address} (through ${client.via})`,
      fields: { ...this.opts.fields, address, ...(client.via === undefined ? {} : { via: client.via }) },
    };
  }
}

/** The 429 body's words, the same from every listener. */
export function coolingOffMessage(retryAfterSeconds: number): string {
  return `too many missing or wrong tokens from your address: retry after ${retryAfterSeconds} s`;
}
