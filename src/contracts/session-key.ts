/**
 * A PostgreSQL session is named by its server and `%c` session id; the one key every stage uses to find it
 * (the session tracker, the store's late attribution, the detection facts). NUL cannot occur in either part,
 * so the key cannot collide.
 */
export function sessionKey(server: string, sessionId: string): string {
  return `${server}\u0000${sessionId}`;
}
