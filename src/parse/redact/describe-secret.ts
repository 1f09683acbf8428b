/**
 * The facts about a secret that the analysis and the rules may keep (length, character classes,
 * whether it is already a hash). The secret itself never leaves this function.
 */
import type { SecretFinding } from './secret-finding.js';

import { passwordType } from './password-type.js';

export function describeSecret(kind: SecretFinding['kind'], value: string): SecretFinding {
  const type = passwordType(value);
  let length = 0;
  for (const _ of value) length++; // code points, so an emoji counts once
  return {
    kind,
    length,
    hasLower: /\p{Ll}/u.test(value),
    hasUpper: /\p{Lu}/u.test(value),
    hasDigit: /\p{Nd}/u.test(value),
    hasSpecial: /[^\p{L}\p{Nd}]/u.test(value),
    isMd5Hash: type === 'md5',
    isScramVerifier: type === 'scram-sha-256',
  };
}
