/** fast-check arbitraries for pgaudit entries: anything pgaudit can write, with quoting-hostile text. */
import fc from 'fast-check';

import type { AuditEntry } from '../../src/pgaudit/audit-entry.js';
import { KNOWN_AUDIT_CLASSES } from '../../src/pgaudit/index.js';
import { appendValidCsv } from './serialize-like-pgaudit.js';

const MARKERS = new Set(['<not logged>', '<previously logged>', '<none>']);

/** Characters that stress the quoting, mixed with any Unicode code point. */
export const unit = fc.oneof(
  fc.constantFrom(',', '"', '\n', '\r', '\r\n', '""', ',"', ' ', '\t', '<', '>', 'é', '漢', '😀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const text = (minLength = 0) => fc.string({ unit, minLength, maxLength: 30 });
const nullableText = fc.option(text(1), { nil: null });

/** A list pgaudit can write unambiguously: one parameter equal to a marker would read as the marker. */
export const parameterList = fc
  .array(text(), { minLength: 1, maxLength: 8 })
  .filter((list) => !(list.length === 1 && MARKERS.has(list[0]!)));

const statementAndParameters = fc.oneof(
  fc.record({
    statementLogged: fc.constant('logged' as const),
    statement: fc.option(text(1), { nil: null }).filter((s) => s === null || !MARKERS.has(s)),
    params: fc.oneof(
      fc.constantFrom(
        { parameter: '<not logged>', parameters: null },
        { parameter: '<none>', parameters: [] as string[] },
      ),
      parameterList.map((list) => {
        const inner = list.map(appendValidCsv).join(',');
        return { parameter: inner === '' ? null : inner, parameters: list };
      }),
    ),
  }),
  fc.constantFrom('not logged' as const, 'previously logged' as const).map((mode) => ({
    statementLogged: mode,
    statement: null,
    params: { parameter: `<${mode}>`, parameters: null },
  })),
);

export const auditEntry: fc.Arbitrary<AuditEntry> = fc
  .record({
    auditType: fc.constantFrom('SESSION' as const, 'OBJECT' as const),
    statementId: fc.maxSafeNat(),
    substatementId: fc.maxSafeNat(),
    className: fc.constantFrom(...KNOWN_AUDIT_CLASSES),
    command: text(1),
    objectType: nullableText,
    objectName: nullableText,
    sp: statementAndParameters,
    rows: fc.option(fc.maxSafeNat(), { nil: null }),
  })
  .map(({ sp, ...rest }) => ({
    ...rest,
    statement: sp.statement,
    statementLogged: sp.statementLogged,
    parameter: sp.params.parameter,
    parameters: sp.params.parameters,
    rows: rest.rows,
  }));
