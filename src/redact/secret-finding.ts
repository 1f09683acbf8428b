/**
 * What the redactor learned about a secret before it replaced it. The text itself is never kept:
 * only the facts the privilege analysis and the rules need (issue: password hygiene facts).
 */
export interface SecretFinding {
  /** `password` (a role password literal), `connection-password` (password=… in a conninfo string), `option-password` (OPTIONS (password '…')), `parameter` (a bind parameter used as a password). */
  kind: 'password' | 'connection-password' | 'option-password' | 'parameter';
  length: number;
  hasLower: boolean;
  hasUpper: boolean;
  hasDigit: boolean;
  hasSpecial: boolean;
  /** `md5` + 32 hex digits: an MD5 hash given instead of clear text. */
  isMd5Hash: boolean;
  /** `SCRAM-SHA-256$…`: a SCRAM verifier given instead of clear text. */
  isScramVerifier: boolean;
}

export interface RedactionResult {
  text: string;
  secrets: SecretFinding[];
}
