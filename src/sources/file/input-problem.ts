/**
 * What is wrong with a path given to `ingest`, found before anything of it is read: a directory, a missing or
 * unreadable file, gzip data that is corrupt. Corrupt gzip is found by decompressing the whole file once first,
 * because zlib can only tell at the end of a member (its CRC) that what it gave before was garbage: read as it
 * goes, a corrupt archive would be stored as thousands of dead letters before the error.
 */
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isGzipFile } from './read-lines.js';

/** Why `path` cannot be read as a log, or null when it can. */
export async function inputProblem(path: string): Promise<string | null> {
  if (path === '-') return null;
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    return fsReason(error);
  }
  if (info.isDirectory()) return `is a directory: give the log files in it (e.g. ${path.replace(/\/+$/, '')}/*.log)`;
  if (!info.isFile() && !info.isFIFO() && !info.isCharacterDevice()) return 'is not a file';
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    return fsReason(error);
  }
  return info.isFile() && (await isGzipFile(path)) ? gzipProblem(path) : null;
}

async function gzipProblem(path: string): Promise<string | null> {
  let bytes = 0;
  const count = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), count);
    return null;
  } catch (error) {
    return `gzip data is corrupt (${(error as Error).message}) after ${bytes} decompressed bytes; \`gzip -dc\` gives what can be recovered, to be ingested instead`;
  }
}

function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${(error as Error).message})`;
}
