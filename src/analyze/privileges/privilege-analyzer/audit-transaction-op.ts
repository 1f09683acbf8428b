/** pgaudit MISC command tags of transaction control → the transaction op; savepoint names come from the text (best effort). */
import type { TransactionOp } from '../statement-changes.js';

// One each: every transaction of every session begins and ends with one of these.
const BEGIN: TransactionOp = Object.freeze({ op: 'begin' });
const COMMIT: TransactionOp = Object.freeze({ op: 'commit' });
const ROLLBACK: TransactionOp = Object.freeze({ op: 'rollback' });

export function auditTransactionOp(command: string, text: string): TransactionOp | null {
  switch (command) {
    case 'BEGIN':
    case 'START TRANSACTION':
      return BEGIN;
    case 'COMMIT':
    case 'PREPARE TRANSACTION':
      return COMMIT;
    case 'ROLLBACK':
      return /^\s*(?:rollback|abort)\s+(?:work\s+|transaction\s+)?to\b/i.test(text)
        ? { op: 'rollback-to', name: savepointName(text, /\bto\s+(?:savepoint\s+)?(?:"([^"]+)"|(\w+))/i) }
        : ROLLBACK;
    case 'SAVEPOINT':
      return { op: 'savepoint', name: savepointName(text, /savepoint\s+(?:"([^"]+)"|(\w+))/i) };
    case 'RELEASE':
      return { op: 'release', name: savepointName(text, /release\s+(?:savepoint\s+)?(?:"([^"]+)"|(\w+))/i) };
    default:
      return null;
  }
}

/** A quoted name as written, an unquoted one folded to lower case, as PostgreSQL does. */
function savepointName(text: string, re: RegExp): string {
  const m = re.exec(text);
  return m ? (m[1] !== undefined ? m[1] : (m[2] ?? '').toLowerCase()) : '';
}
