/**
 * Rows handed to one statement as bound lists, one a column, instead of a VALUES list in its text. DuckDB parses
 * and binds a literal list value by value: for the few hundred findings of a batch that cost the outbox more than
 * its statements' own work (23 against 8 ms of CPU for one UPDATE of 150 alerts), and the text grew with the rows.
 */
import { BIGINT, BOOLEAN, DuckDBTimestampTZValue, LIST, TIMESTAMPTZ, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

const TYPES = { VARCHAR, BIGINT, TIMESTAMPTZ, BOOLEAN } as const;

export type BoundType = keyof typeof TYPES;

type CellOf<T extends BoundType> = T extends 'VARCHAR' ? string : T extends 'BIGINT' ? number | bigint : T extends 'TIMESTAMPTZ' ? Date : boolean;

export type BoundRow<C extends Record<string, BoundType>> = { [K in keyof C]: CellOf<C[K]> | null };

export interface BoundRows {
  /** A subquery of the rows, one column a name given: `(SELECT unnest($name::TYPE[]) AS "name", …)`, in the rows' order. */
  readonly sql: string;
  /** The named parameters `sql` reads: the column names, so two sets of rows in one statement need distinct ones. */
  readonly values: Record<string, DuckDBValue>;
  readonly types: Record<string, DuckDBType>;
}

export function boundRows<C extends Record<string, BoundType>>(columns: C, rows: readonly BoundRow<C>[]): BoundRows {
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  const selected: string[] = [];
  for (const [name, type] of Object.entries(columns) as [string, BoundType][]) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a column name for bound rows: ${name}`);
    values[name] = listValue(rows.map((row) => cell(type, row[name] ?? null)));
    types[name] = LIST(TYPES[type]);
    // Several unnests in one select list are taken side by side, row i of each list together.
    selected.push(`unnest($${name}::${type}[]) AS "${name}"`);
  }
  return { sql: `(SELECT ${selected.join(', ')})`, values, types };
}

function cell(type: BoundType, value: string | number | bigint | Date | boolean | null): DuckDBValue {
  if (value === null) return null;
  switch (type) {
    case 'BIGINT':
      if (typeof value === 'bigint') return value;
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
      return BigInt(value);
    case 'TIMESTAMPTZ':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new Error(`not a time: ${String(value)}`);
      return new DuckDBTimestampTZValue(BigInt(value.getTime()) * 1000n);
    default:
      return value as string | boolean;
  }
}
