/**
 * Two names joined into one map key: a server and a session, a user or a role; a role and a member. NUL cannot
 * occur in a PostgreSQL name or a server name, so the key cannot collide and splits back into its two parts.
 */
export function pairKey(first: string, second: string): string {
  return `${first}\u0000${second}`;
}

/** The two names of a key made by `pairKey` or `sessionKey`. */
export function splitPairKey(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}

/**
 * A PostgreSQL session is named by its server and `%c` session id; the one key every stage uses to find it
 * (the session tracker, the store's late attribution, the detection facts).
 */
export function sessionKey(server: string, sessionId: string): string {
  return pairKey(server, sessionId);
}
