/**
 * A connection that notes the SQL of each statement it is given, for tests of how many statements a piece of
 * code runs and how long their text is.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export function loggingStatements(connection: DuckDBConnection): { connection: DuckDBConnection; statements: string[] } {
  const statements: string[] = [];
  const proxy = new Proxy(connection, {
    get(target, name) {
      const value = Reflect.get(target, name) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof args[0] === 'string') statements.push(args[0]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { connection: proxy, statements };
}
