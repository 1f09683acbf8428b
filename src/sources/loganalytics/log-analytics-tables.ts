/**
 * The two Log Analytics tables that hold Flexible Server's PostgreSQLLogs, as KQL that projects both onto
 * one set of column names, and the mapping of such a row back to the diagnostic-settings record shape that
 * decodeAzureRecord reads (Log Analytics keeps the same rendered `Message`).
 */
export const LOG_ANALYTICS_TABLES = ['PGSQLServerLogs', 'AzureDiagnostics'] as const;
export type LogAnalyticsTable = (typeof LOG_ANALYTICS_TABLES)[number];

/** Source expression and projection per table; the projected names are what `rowToAzureRecord` reads. */
const TABLE_KQL = {
  PGSQLServerLogs: {
    source: 'PGSQLServerLogs',
    serverColumn: 'LogicalServerName',
    project:
      "TimeGenerated, ResourceId = _ResourceId, LogicalServerName, Message, ErrorLevel, SqlErrorCode, ProcessId, Detail = column_ifexists('Detail', '')",
  },
  AzureDiagnostics: {
    source: "AzureDiagnostics\n| where Category == 'PostgreSQLLogs'",
    serverColumn: 'LogicalServerName_s',
    project:
      "TimeGenerated, ResourceId, LogicalServerName = LogicalServerName_s, Message, ErrorLevel = errorLevel_s, SqlErrorCode = sqlerrcode_s, ProcessId = processId_d, Detail = column_ifexists('Detail', '')",
  },
} satisfies Record<LogAnalyticsTable, { source: string; serverColumn: string; project: string }>;

/** Azure server names: 3-63 lowercase letters, digits and hyphens. Anything else never reaches the KQL. */
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/i;

export function validateServerName(name: string): string {
  if (!SERVER_NAME.test(name)) throw new Error(`"${name}" is not an Azure PostgreSQL server name (letters, digits and hyphens)`);
  return name.toLowerCase();
}

/** The query for one half-open window [start, end), oldest first so session lines precede their audit lines. */
export function buildWindowQuery(table: LogAnalyticsTable, start: Date, end: Date, server?: string): string {
  const t = TABLE_KQL[table];
  return [
    t.source,
    `| where TimeGenerated >= datetime(${start.toISOString()}) and TimeGenerated < datetime(${end.toISOString()})`,
    ...(server ? [`| where ${t.serverColumn} =~ '${validateServerName(server)}'`] : []),
    `| project ${t.project}`,
    '| order by TimeGenerated asc',
  ].join('\n');
}

export interface ResultTable {
  columnDescriptors: { name?: string }[];
  rows: unknown[][];
}

/** A projected row → `{category, time, resourceId, LogicalServerName, properties: {...}}` as Event Hubs delivers it. */
export function rowsToAzureRecords(table: ResultTable): Record<string, unknown>[] {
  const index = new Map(table.columnDescriptors.map((c, i) => [c.name ?? '', i]));
  const get = (row: unknown[], name: string): unknown => {
    const i = index.get(name);
    const v = i === undefined ? undefined : row[i];
    return v === '' ? undefined : v;
  };
  return table.rows.map((row) => {
    const time = get(row, 'TimeGenerated');
    const processId = get(row, 'ProcessId');
    return {
      category: 'PostgreSQLLogs',
      time: time instanceof Date ? time.toISOString() : time,
      resourceId: get(row, 'ResourceId'),
      LogicalServerName: get(row, 'LogicalServerName'),
      properties: {
        message: get(row, 'Message'),
        errorLevel: get(row, 'ErrorLevel'),
        sqlerrcode: get(row, 'SqlErrorCode'),
        // AzureDiagnostics keeps numbers as doubles (processId_d).
        processId: typeof processId === 'number' ? Math.trunc(processId) : processId,
        detail: get(row, 'Detail'),
      },
    };
  });
}
