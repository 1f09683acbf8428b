import { describeSecret } from '../../parse/redact/index.js';
import type { SecretFinding } from '../../parse/redact/secret-finding.js';

/** The facts the password-hygiene rules need about a password literal (Azure guidance: length, classes). */
export function passwordStrength(text: string): Omit<SecretFinding, 'kind'> {
  const { kind: _kind, ...facts } = describeSecret('password', text);
  return facts;
}
