import type { SessionFact } from '../parsed-entry.js';

/**
 * The lines `log_connections` / `log_disconnections` write, in PostgreSQL 15's wording. They are the only
 * place the default Azure prefix (`%t-%c-`) leaves user, database and client address.
 */
const SESSION_LINES: readonly { pattern: RegExp; read(m: RegExpExecArray): SessionFact }[] = [
  {
    pattern: /^connection received: host=(\S+?)(?: port=(\d+))?$/,
    read: (m) => ({ event: 'received', clientAddr: m[1]!, ...(m[2] ? { clientPort: Number(m[2]) } : {}) }),
  },
  {
    pattern: /^connection authenticated: identity="((?:[^"]|"")*)" method=(\S+)/,
    read: (m) => ({ event: 'authenticated', authIdentity: m[1]!.replace(/""/g, '"'), authMethod: m[2]! }),
  },
  {
    pattern:
      /^(replication )?connection authorized: user=(\S*)(?: database=(\S*))?(?: application_name=(.*?))?( SSL enabled \(protocol=([^,]*), cipher=([^,]*), bits=\d+(?:, compression=\w+)?\))?( GSS .*)?$/,
    read: (m) => ({
      event: 'authorized',
      userName: m[2]!,
      ...(m[3] !== undefined ? { databaseName: m[3] } : {}),
      ...(m[4] !== undefined ? { applicationName: m[4] } : {}),
      ssl: m[5] !== undefined,
      ...(m[6] ? { sslProtocol: m[6], sslCipher: m[7]! } : {}),
      replication: m[1] !== undefined,
    }),
  },
  {
    pattern: /^disconnection: session time: (\d+):(\d\d):(\d\d(?:\.\d+)?) user=(\S*) database=(\S*) host=(\S+?)(?: port=(\d+))?$/,
    read: (m) => ({
      event: 'disconnected',
      sessionMillis: Math.round(((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000),
      userName: m[4]!,
      databaseName: m[5]!,
      clientAddr: m[6]!,
      ...(m[7] ? { clientPort: Number(m[7]) } : {}),
    }),
  },
];

/** Cheap gate for the hot path: every session line starts with one of these words. */
export function mayBeSessionLine(text: string): boolean {
  const c = text.charCodeAt(0);
  return c === 99 /* c */ || c === 100 /* d */ || c === 114 /* r */;
}

export function parseSessionLine(text: string): SessionFact | null {
  for (const { pattern, read } of SESSION_LINES) {
    const m = pattern.exec(text);
    if (m) return read(m);
  }
  return null;
}
