/** The part of proxy-addr (which ships no types) client-address.ts uses; the same signatures as @types/proxy-addr 2.0. */
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  type Trust = (address: string, hop: number) => boolean;

  /** The peer's address, then X-Forwarded-For right to left, up to and including the first address `trust` refuses. */
  function all(req: IncomingMessage, trust: Trust): string[];
  /** A trust function for addresses, CIDR ranges (or address/netmask) and the names loopback, linklocal, uniquelocal; throws a TypeError naming a bad entry. */
  function compile(val: string | string[]): Trust;

  const proxyAddr: { all: typeof all; compile: typeof compile };
  export default proxyAddr;
}
