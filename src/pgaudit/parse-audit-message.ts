/**
 * Parses one pgaudit entry: the log message after the level, `AUDIT: ` then
 * `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`.
 *
 * Input contract: one complete message, continuation lines already joined with `\n` (a multi-line
 * statement is a quoted field). A trailing CR/LF is tolerated: pgaudit quotes every field holding one,
 * so a bare trailing line break can only be a leftover of line splitting.
 *
 * This runs once per audit record on the ingest hot path, so it is a single pass over the text with
 * no regular expressions and no per-field objects; see csv-field-scanner.ts for the quoting rules.
 * Anything malformed throws ParseError; the caller turns it into a dead letter.
 */
import { ParseError } from '../contracts/log-record.js';
import type { AuditEntry } from './audit-entry.js';
import { FieldCursor, scanCsvFields } from './csv-field-scanner.js';

export const AUDIT_PREFIX = 'AUDIT: ';

/** What pgaudit writes in STATEMENT and PARAMETER instead of a value (pgaudit.c). */
export const AuditMarker = {
  notLogged: '<not logged>',
  previouslyLogged: '<previously logged>',
  /** PARAMETER only: parameter logging is on and the statement had no parameters. */
  none: '<none>',
  /** One bind parameter over `pgaudit.log_parameter_max_size` (pgaudit 16+). */
  longParamSuppressed: '<long param suppressed>',
} as const;

/**
 * Classes pgaudit 1.x-17 write. Other upper-case class names are accepted and kept as logged, so a new
 * pgaudit class still lands in audit_events instead of the dead letters; this list is for readers.
 */
export const KNOWN_AUDIT_CLASSES = ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC', 'MISC_SET'] as const;

const FIELD_NAMES = [
  'AUDIT_TYPE',
  'STATEMENT_ID',
  'SUBSTATEMENT_ID',
  'CLASS',
  'COMMAND',
  'OBJECT_TYPE',
  'OBJECT_NAME',
  'STATEMENT',
  'PARAMETER',
  'ROWS',
] as const;

const F_AUDIT_TYPE = 0;
const F_STATEMENT_ID = 1;
const F_SUBSTATEMENT_ID = 2;
const F_CLASS = 3;
const F_COMMAND = 4;
const F_OBJECT_TYPE = 5;
const F_OBJECT_NAME = 6;
const F_STATEMENT = 7;
const F_PARAMETER = 8;
const F_ROWS = 9;

const LF = 0x0a;
const CR = 0x0d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LESS_THAN = 0x3c; // every marker starts with '<'

// Reused across calls (parsing is synchronous): no bookkeeping allocation per entry.
const auditFields = new FieldCursor(FIELD_NAMES.length, 'field');
const parameterFields = new FieldCursor(Number.POSITIVE_INFINITY, 'parameter');

/** Cheap test for the hot path's dispatch: is this log message a pgaudit entry? */
export function isAuditMessage(text: string): boolean {
  return text.startsWith(AUDIT_PREFIX);
}

/** Splits a pgaudit AUDIT message into its fields. Throws ParseError when it is not one. */
export function parseAuditMessage(text: string): AuditEntry {
  const start = text.startsWith(AUDIT_PREFIX) ? AUDIT_PREFIX.length : 0;
  let end = text.length;
  while (end > start) {
    const c = text.charCodeAt(end - 1);
    if (c !== LF && c !== CR) break;
    end--;
  }
  if (end === start) throw new ParseError('empty pgaudit AUDIT message');

  const count = scanCsvFields(text, start, end, auditFields);
  if (count !== 9 && count !== 10) {
    throw new ParseError(
      `pgaudit AUDIT message has ${count} field${count === 1 ? '' : 's'}, expected 9 or 10 ` +
        '(AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS])',
    );
  }
  const f = auditFields;

  const statementMarker = readMarker(text, F_STATEMENT);
  const parameterMarker = readMarker(text, F_PARAMETER);
  let parameter: string | null;
  let parameters: string[] | null;
  if (parameterMarker !== null) {
    parameter = parameterMarker;
    parameters = parameterMarker === AuditMarker.none ? [] : null;
  } else {
    // Logged parameters: the inner CSV, quoted once more as a whole when it needs it.
    const inner = f.value(text, F_PARAMETER);
    parameter = inner === '' ? null : inner;
    parameters = splitParameters(inner);
  }

  return {
    auditType: readAuditType(text),
    statementId: readCount(text, F_STATEMENT_ID),
    substatementId: readCount(text, F_SUBSTATEMENT_ID),
    className: readClass(text),
    command: readCommand(text),
    objectType: readNullable(text, F_OBJECT_TYPE),
    objectName: readNullable(text, F_OBJECT_NAME),
    statement: statementMarker === null ? readNullable(text, F_STATEMENT) : null,
    statementLogged:
      statementMarker === null
        ? 'logged'
        : statementMarker === AuditMarker.notLogged
          ? 'not logged'
          : 'previously logged',
    parameter,
    parameters,
    rows: count === 10 ? readCount(text, F_ROWS) : null,
  };
}

function readAuditType(text: string): AuditEntry['auditType'] {
  if (auditFields.isPlain(text, F_AUDIT_TYPE, 'SESSION')) return 'SESSION';
  if (auditFields.isPlain(text, F_AUDIT_TYPE, 'OBJECT')) return 'OBJECT';
  throw new ParseError(`unknown pgaudit audit type ${describeToken(F_AUDIT_TYPE)}; expected SESSION or OBJECT`);
}

/** STATEMENT_ID, SUBSTATEMENT_ID and ROWS: pgaudit prints them with INT64_FORMAT, never quoted or signed. */
function readCount(text: string, index: number): number {
  const f = auditFields;
  const start = f.starts[index]!;
  const end = f.ends[index]!;
  if (end === start || f.forms[index] !== 0) {
    throw new ParseError(`pgaudit ${FIELD_NAMES[index]} is not a number`);
  }
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) throw new ParseError(`pgaudit ${FIELD_NAMES[index]} is not a number`);
    n = n * 10 + (c - DIGIT_0);
  }
  if (!Number.isSafeInteger(n)) throw new ParseError(`pgaudit ${FIELD_NAMES[index]} is beyond 2^53`);
  return n;
}

function readClass(text: string): string {
  for (const known of KNOWN_AUDIT_CLASSES) {
    if (auditFields.isPlain(text, F_CLASS, known)) return known;
  }
  if (!isUpperToken(text, F_CLASS)) {
    throw new ParseError(`unknown pgaudit class ${describeToken(F_CLASS)}`);
  }
  return auditFields.value(text, F_CLASS);
}

function readCommand(text: string): string {
  if (auditFields.length(F_COMMAND) === 0) throw new ParseError('pgaudit COMMAND is empty');
  return auditFields.value(text, F_COMMAND);
}

function readNullable(text: string, index: number): string | null {
  return auditFields.length(index) === 0 ? null : auditFields.value(text, index);
}

/** The marker constant when STATEMENT / PARAMETER holds one, else null. */
function readMarker(text: string, index: number): string | null {
  const f = auditFields;
  if (f.forms[index] !== 0 || f.length(index) < 6 || text.charCodeAt(f.starts[index]!) !== LESS_THAN) return null;
  if (f.isPlain(text, index, AuditMarker.notLogged)) return AuditMarker.notLogged;
  if (f.isPlain(text, index, AuditMarker.previouslyLogged)) return AuditMarker.previouslyLogged;
  if (index === F_PARAMETER && f.isPlain(text, index, AuditMarker.none)) return AuditMarker.none;
  return null;
}

/**
 * The bind parameters from the inner CSV. pgaudit writes a NULL and an empty string alike (nothing),
 * so both come back as ''; `<long param suppressed>` stays as that marker.
 */
function splitParameters(inner: string): string[] {
  const count = scanCsvFields(inner, 0, inner.length, parameterFields);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    out[i] = parameterFields.length(i) === 0 ? '' : parameterFields.value(inner, i);
  }
  return out;
}

function isUpperToken(text: string, index: number): boolean {
  const f = auditFields;
  const start = f.starts[index]!;
  const end = f.ends[index]!;
  if (end === start || f.forms[index] !== 0) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x5f)) return false;
  }
  return true;
}

/** Describes a bad token by its size only: reasons reach dead letters unredacted and must not carry content. */
function describeToken(index: number): string {
  const len = auditFields.length(index);
  return len === 0 ? '(empty)' : `(${len} characters)`;
}
