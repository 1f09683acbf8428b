/** One line of a text source, with the byte offsets that let a later run resume exactly after it. */
export interface SourceLine {
  /** The line without its trailing `\n` / `\r\n`. */
  text: string;
  /** Byte offset of the line's first byte (in the decompressed stream for gzip input). */
  start: number;
  /** Byte offset just past the line's newline. */
  end: number;
}

/**
 * A decoder that turns lines into results and may hold lines back while an entry is incomplete
 * (a stderr entry waits for its continuation lines, a csvlog row for its closing quote).
 */
export interface LineDecoder<T> {
  push(line: SourceLine): T[];
  /** End of input: emit whatever is still held. */
  flush(): T[];
  /** Offset of the first line still held back, or null. A resumed run must restart there. */
  pendingStart(): number | null;
}
