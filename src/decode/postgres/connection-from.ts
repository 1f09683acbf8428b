/** csvlog's `connection_from`: `host:port`, `[local]` for a Unix socket, empty for background processes. */
export function splitHostPort(value: string | null): { host: string | null; port: number | null } {
  if (value === null || value === '') return { host: null, port: null };
  // Split at the last colon so IPv6 hosts (`::1:5432`) keep theirs.
  const colon = value.lastIndexOf(':');
  const portText = colon < 0 ? '' : value.slice(colon + 1);
  if (!/^\d+$/.test(portText)) return { host: value, port: null };
  return { host: value.slice(0, colon) || null, port: Number(portText) };
}
