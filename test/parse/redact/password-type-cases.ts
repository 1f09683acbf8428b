/** Password literals at the edges of PostgreSQL's md5 and SCRAM shapes, with what get_password_type says. */
import type { PasswordType } from '../../../src/parse/redact/password-type.js';

const KEY = Buffer.alloc(32, 7).toString('base64'); // 32 bytes: 44 characters, one `=`
const SALT = Buffer.from('0123456789abcdef').toString('base64');
const hex32 = 'd8578edf8458ce06fbc5bb76a58c5ca4';

export const PASSWORD_TYPE_CASES: { name: string; literal: string; type: PasswordType }[] = [
  { name: 'md5 + 32 lower-case hex', literal: `md5${hex32}`, type: 'md5' },
  { name: 'MD5 in capitals', literal: `MD5${hex32}`, type: 'plaintext' },
  { name: 'md5 + 32 upper-case hex', literal: `md5${hex32.toUpperCase()}`, type: 'plaintext' },
  { name: 'md5 + 31 hex', literal: `md5${hex32.slice(1)}`, type: 'plaintext' },
  { name: 'md5 + 33 hex', literal: `md5${hex32}0`, type: 'plaintext' },
  { name: 'md5 + 32 non-hex', literal: `md5${'g'.repeat(32)}`, type: 'plaintext' },
  { name: 'a SCRAM verifier', literal: `SCRAM-SHA-256$4096:${SALT}$${KEY}:${KEY}`, type: 'scram-sha-256' },
  { name: 'SCRAM with lower-case scheme', literal: `scram-sha-256$4096:${SALT}$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with 16-byte keys', literal: `SCRAM-SHA-256$4096:${SALT}$${KEY.slice(0, 24)}:${KEY.slice(0, 24)}`, type: 'plaintext' },
  { name: 'SCRAM with a key missing its padding', literal: `SCRAM-SHA-256$4096:${SALT}$${KEY.slice(0, 43)}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with a salt that is not base64', literal: `SCRAM-SHA-256$4096:not*base64$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with iterations that are not a number', literal: `SCRAM-SHA-256$many:${SALT}$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with empty iterations (strtok skips the empty field)', literal: `SCRAM-SHA-256$:${SALT}$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with a doubled $', literal: `SCRAM-SHA-256$$4096:${SALT}$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with iterations in leading spaces', literal: `SCRAM-SHA-256$ 4096:${SALT}$${KEY}:${KEY}`, type: 'scram-sha-256' },
  { name: 'SCRAM with a padded salt', literal: `SCRAM-SHA-256$4096:c2FsdA==$${KEY}:${KEY}`, type: 'scram-sha-256' },
  { name: 'SCRAM with a signed iteration count', literal: `SCRAM-SHA-256$+4096:${SALT}$${KEY}:${KEY}`, type: 'scram-sha-256' },
  { name: 'SCRAM with an empty salt', literal: `SCRAM-SHA-256$4096:$${KEY}:${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with a field missing', literal: `SCRAM-SHA-256$4096:${SALT}$${KEY}`, type: 'plaintext' },
  { name: 'SCRAM with text after the server key', literal: `SCRAM-SHA-256$4096:${SALT}$${KEY}:${KEY}x`, type: 'plaintext' },
  { name: 'a plain password', literal: 'correct horse battery staple', type: 'plaintext' },
];
