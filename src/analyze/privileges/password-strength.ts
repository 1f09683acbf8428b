import type { SecretFinding } from '../../parse/redact/secret-finding.js';

/** The facts the password-hygiene rules need about a password literal (Azure guidance: length, classes). */
export function passwordStrength(text: string): Omit<SecretFinding, 'kind'> {
  return {
    length: [...text].length,
    hasLower: /\p{Ll}/u.test(text),
    hasUpper: /\p{Lu}/u.test(text),
    hasDigit: /\d/.test(text),
    hasSpecial: /[^\p{L}\d]/u.test(text),
    isMd5Hash: /^md5[0-9a-f]{32}$/i.test(text),
    isScramVerifier: /^SCRAM-SHA-256\$/.test(text),
  };
}
