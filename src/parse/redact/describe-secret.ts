/**
 * The facts about a secret that the analysis and the rules may keep (length, character classes,
 * whether it is already a hash). The secret itself never leaves this function.
 */
import type { SecretFinding } from './secret-finding.js';

/** PostgreSQL accepts `md5` + 32 lowercase hex digits as a pre-hashed password (src/common/md5_common.c). */
const MD5_HASH = /^md5[0-9a-f]{32}$/;
/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (src/backend/libpq/auth-scram.c). */
const SCRAM_VERIFIER = /^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

export function describeSecret(kind: SecretFinding['kind'], value: string): SecretFinding {
  let length = 0;
  for (const _ of value) length++; // code points, so an emoji counts once
  return {
    kind,
    length,
    hasLower: /\p{Ll}/u.test(value),
    hasUpper: /\p{Lu}/u.test(value),
    hasDigit: /\p{Nd}/u.test(value),
    hasSpecial: /[^\p{L}\p{Nd}]/u.test(value),
    isMd5Hash: MD5_HASH.test(value),
    isScramVerifier: SCRAM_VERIFIER.test(value),
  };
}
