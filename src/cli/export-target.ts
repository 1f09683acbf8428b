/**
 * Where `auditduck export` writes and in which format: taken from --format, else from the file's extension;
 * `-` is stdout, which gets CSV unless told JSON (Parquet is a file format: it needs a seekable file).
 */
export const EXPORT_FORMATS = ['parquet', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const BY_EXTENSION: Record<string, ExportFormat> = { '.parquet': 'parquet', '.csv': 'csv', '.json': 'json' };

export function exportFormat(output: string, given: ExportFormat | undefined): ExportFormat {
  if (output === '-') {
    if (given === 'parquet') throw new Error('Parquet cannot go to stdout: give --output FILE.parquet, or --format csv|json for -');
    return given ?? 'csv';
  }
  if (given) return given;
  const extension = /\.[^./\\]+$/.exec(output.toLowerCase())?.[0] ?? '';
  const format = BY_EXTENSION[extension];
  if (!format) throw new Error(`cannot tell the format of "${output}" from its extension: name it .parquet, .csv or .json, or give --format`);
  return format;
}
