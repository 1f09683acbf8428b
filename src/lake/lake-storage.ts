/**
 * The lake's files, wherever they live: a local directory or a Blob container. Paths are relative to the
 * lake's root and use `/`. Objects are written once: putting one that is already there with the same
 * SHA-256 leaves it as is (a container with an immutability policy refuses overwrites), and a different
 * one already there is an error, never a silent replacement.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { LakeLocation } from './lake-location.js';

export interface LakeStorage {
  /** Where the lake is, as it may be logged (no secrets). */
  readonly description: string;
  /** Creates the container when it is missing and the credential may (a first run, tests). */
  ensureReady(): Promise<void>;
  put(path: string, localFile: string, sha256: string): Promise<void>;
  putText(path: string, text: string): Promise<void>;
  /** The object's bytes; null when there is none. */
  get(path: string): Promise<Buffer | null>;
  /** Every object whose path begins with `prefix` ('' for all), as paths relative to the root. */
  list(prefix?: string): Promise<string[]>;
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function openLakeStorage(location: LakeLocation, env: NodeJS.ProcessEnv = process.env): Promise<LakeStorage> {
  switch (location.kind) {
    case 'directory':
      return new DirectoryLake(location.path);
    case 'blob': {
      const { BlobLake } = await import('./blob-lake.js');
      return BlobLake.connect(location, env);
    }
    default:
      return location satisfies never;
  }
}

/** A lake in a local (or mounted) directory. Files appear whole: written beside and renamed. */
export class DirectoryLake implements LakeStorage {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = root;
  }

  /** The folder is created with the first file put. */
  async ensureReady(): Promise<void> {}

  async put(path: string, localFile: string, sha256: string): Promise<void> {
    const target = this.resolve(path);
    const existing = await readFile(target).catch(() => null);
    if (existing !== null) return checkSame(path, sha256Hex(existing), sha256);
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    await copyFile(localFile, partial);
    await rename(partial, target);
  }

  async putText(path: string, text: string): Promise<void> {
    const target = this.resolve(path);
    const existing = await readFile(target).catch(() => null);
    if (existing !== null) return checkSame(path, sha256Hex(existing), sha256Hex(text));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.partial`, text);
    await rename(`${target}.partial`, target);
  }

  async get(path: string): Promise<Buffer | null> {
    return readFile(this.resolve(path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  }

  async list(prefix = ''): Promise<string[]> {
    // A prefix may end inside a name (`_manifest/00012`), as Blob's does: the folder it is in is read.
    const base = this.resolve(prefix.slice(0, prefix.lastIndexOf('/') + 1));
    const exists = await stat(base).then(() => true, () => false);
    if (!exists) return [];
    const entries = await readdir(base, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.endsWith('.partial'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((path) => path.startsWith(prefix))
      .sort();
  }

  private resolve(path: string): string {
    if (path.split('/').includes('..')) throw new Error(`lake path ${path} leaves the lake`);
    return join(this.root, ...path.split('/'));
  }
}

export function checkSame(path: string, existing: string, wanted: string): void {
  if (existing !== wanted) {
    throw new Error(`the lake already holds ${path} with other content (SHA-256 ${existing.slice(0, 12)}…, this one ${wanted.slice(0, 12)}…): it is not overwritten; run auditduck lake verify`);
  }
}
