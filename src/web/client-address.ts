/**
 * Who sent a request, for the failed-token limit and its log: the peer of the socket, or, when the peer is a
 * trusted reverse proxy (ingress-nginx, Application Gateway, Front Door), the client it forwarded for.
 *
 * A proxy appends the address it saw to X-Forwarded-For, after whatever the client sent, so the list is read
 * right to left: past the trusted proxies, the first address is the one a trusted hop saw (proxy-addr, Express's
 * evaluation of the same header). What a client writes into the header itself is to the left of it and never
 * read. An untrusted peer's headers are not read at all.
 *
 * Only X-Forwarded-For: the proxies above all write it, and reading the standard `Forwarded` too would let a
 * client send whichever of the two its proxy does not write, and be believed.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/** Whether a hop's address is a trusted proxy; `hop` 0 is the peer. */
export type TrustedProxies = (address: string, hop: number) => boolean;

export interface ClientAddress {
  /** Undefined only when the socket is already gone. */
  address: string | undefined;
  /** The peer, a trusted proxy, when the address is one it forwarded. */
  via?: string;
}

const NAMED_RANGES = 'loopback, linklocal, uniquelocal';

/** The dashboards' trusted proxies from the environment: `run`'s http.trustedProxies, `serve`'s without --trusted-proxy. */
export const HTTP_TRUSTED_PROXIES_ENV = 'AUDITDUCK_HTTP_TRUSTED_PROXIES';

/** The entries of a comma-separated list, as an environment variable gives them. */
export function proxyList(text: string): string[] {
  return text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

/**
 * The trust of a list of addresses, CIDR ranges and the names above; none trusts no one. Throws on an entry that
 * is none of them, naming it. A prefix of 0 is refused too: trusting every address would let any client name itself.
 */
export function trustedProxies(list: readonly string[]): TrustedProxies {
  for (const entry of list) {
    try {
      proxyAddr.compile(entry);
    } catch (error) {
      throw new Error(`${entry} is not an address, a CIDR range or one of ${NAMED_RANGES} (${(error as Error).message})`);
    }
  }
  const trusted = proxyAddr.compile([...list]);
  // Application Gateway writes `address:port`: its hops are judged, as its clients are counted, without the port.
  return (address, hop) => trusted(withoutPort(address), hop);
}

export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): ClientAddress {
  const hops = proxyAddr.all(req, trusted);
  const peer = hops[0];
  // Every hop before the last is a trusted proxy, so an address. The last, as a trusted hop saw its client, may
  // be anything that hop passed on ('unknown'): counted against that hop, the nearest address known.
  let address: string | undefined = peer;
  for (let i = hops.length - 1; i > 0; i--) {
    const hop = withoutPort(hops[i]!);
    if (isIP(hop) !== 0) {
      address = hop;
      break;
    }
  }
  return address === peer ? { address } : { address, via: peer };
}

/** `203.0.113.7:51234` → `203.0.113.7`, `[2001:db8::7]:51234` → `2001:db8::7`; anything else as it is. */
function withoutPort(address: string): string {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address);
  if (v4) return v4[1]!;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/.exec(address);
  return v6 ? v6[1]! : address;
}
