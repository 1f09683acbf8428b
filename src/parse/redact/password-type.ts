/**
 * Which kind of password literal PostgreSQL sees: a pre-hashed md5 password, a SCRAM-SHA-256 verifier, or
 * clear text it will hash itself. The rules are PostgreSQL's own `get_password_type`
 * (src/backend/libpq/crypt.c) and `parse_scram_secret` (src/backend/libpq/auth-scram.c), so that
 * `PASSWORD 'MD5…'` or a verifier with a short key is what the server takes it for: a plain password.
 */

export type PasswordType = 'md5' | 'scram-sha-256' | 'plaintext';

/** `MD5_PASSWD_LEN` (35) and `MD5_PASSWD_CHARSET`: `md5` then exactly 32 lower-case hex digits. */
const MD5_HASH = /^md5[0-9a-f]{32}$/;
/** SCRAM_SHA_256_KEY_LEN: StoredKey and ServerKey must decode to exactly this many bytes. */
const SCRAM_KEY_BYTES = 32;

export function passwordType(literal: string): PasswordType {
  if (MD5_HASH.test(literal)) return 'md5';
  if (isScramSecret(literal)) return 'scram-sha-256';
  return 'plaintext';
}

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, split the way parse_scram_secret splits it:
 * strtok on `$`, `:`, `$`, `:`, then the rest. strtok skips leading separators, so an empty field is not
 * one: `SCRAM-SHA-256$$4096:…` is a verifier, `…$:salt$…` is not.
 */
function isScramSecret(s: string): boolean {
  let at = 0;
  const strtok = (separators: string): string | null => {
    while (at < s.length && separators.includes(s[at] as string)) at++;
    if (at >= s.length) return null;
    const start = at;
    while (at < s.length && !separators.includes(s[at] as string)) at++;
    const token = s.slice(start, at);
    if (at < s.length) at++; // strtok overwrites the separator it stopped at
    return token;
  };
  const scheme = strtok('$');
  const iterations = strtok(':');
  const salt = strtok('$');
  const storedKey = strtok(':');
  const serverKey = strtok('');
  if (scheme !== 'SCRAM-SHA-256' || iterations === null || salt === null || storedKey === null || serverKey === null) return false;
  return (
    isStrtolWhole(iterations) &&
    base64DecodedLength(salt) >= 0 &&
    base64DecodedLength(storedKey) === SCRAM_KEY_BYTES &&
    base64DecodedLength(serverKey) === SCRAM_KEY_BYTES
  );
}

/** strtol(s, &end, 10) with `*end == '\0'` and no overflow: optional leading space and sign, then digits. */
function isStrtolWhole(s: string): boolean {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return false;
  return BigInt(m[2] as string) <= (m[1] === '-' ? 2n ** 63n : 2n ** 63n - 1n);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** pg_b64_decode's output length, or -1 where it rejects the input (src/common/base64.c). */
function base64DecodedLength(s: string): number {
  let pos = 0;
  let end = 0;
  let out = 0;
  for (const c of s) {
    if (c === '=') {
      if (end === 0) {
        if (pos === 2) end = 1;
        else if (pos === 3) end = 2;
        else return -1;
      }
    } else if (!B64.includes(c)) {
      return -1;
    }
    pos++;
    if (pos === 4) {
      out += end === 0 ? 3 : end === 1 ? 1 : 2;
      pos = 0;
    }
  }
  return pos === 0 ? out : -1;
}
