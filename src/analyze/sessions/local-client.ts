/**
 * Whether a session's client address is the server's own machine: loopback (127.0.0.0/8, ::1) or its Unix socket
 * (`[local]`). On Azure Flexible Server that is where the built-in PgBouncer (port 6432) connects from, so for a
 * pooled session the log holds the pooler's address, never the real client's; the rest is Azure's maintenance.
 */
const LOCAL_CLIENT = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[local\])$/i;

export function isLocalClient(clientAddr: string): boolean {
  return LOCAL_CLIENT.test(clientAddr.trim());
}
