/** Decoders of PostgreSQL's own log files: stderr (with a log_line_prefix), csvlog and jsonlog. */
export { createStderrDecoder, type StderrDecoderOptions } from './stderr-decoder.js';
export { createCsvlogDecoder, decodeCsvlogRow, type CsvlogDecoderOptions } from './csvlog-decoder.js';
export { createJsonlogDecoder, decodeJsonlogLine, type JsonlogDecoderOptions } from './jsonlog-decoder.js';
