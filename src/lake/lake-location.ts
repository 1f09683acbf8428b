/**
 * Where the lake is, from the one string users give (`lake` in the config, AUDITDUCK_LAKE, --lake): a local
 * directory, or a Blob container URL with an optional prefix, `https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix`
 * or Azurite's `http://127.0.0.1:PORT/devstoreaccount1/CONTAINER/prefix` (the account in the path).
 */
import { resolve } from 'node:path';

export type LakeLocation =
  | { kind: 'directory'; path: string }
  | {
      kind: 'blob';
      /** The account's Blob endpoint, e.g. `https://acct.blob.core.windows.net` or `http://127.0.0.1:10000/devstoreaccount1`. */
      serviceUrl: string;
      container: string;
      /** Folder inside the container, without slashes at either end; '' for the container's root. */
      prefix: string;
      /** A SAS token given in the URL's query, kept apart so it is never printed. */
      sas: string | null;
    };

export function parseLakeLocation(text: string): LakeLocation {
  const given = text.trim();
  if (given === '') throw new Error('the lake is empty: give a directory or a Blob container URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix)');
  if (!/^https?:\/\//i.test(given)) return { kind: 'directory', path: resolve(given) };
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new Error(`the lake ${describeLake(given)} is not a valid URL: give https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix`);
  }
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  // Azurite and other emulators address the account in the path, not in the host name.
  const accountInPath = !url.hostname.includes('.blob.') && parts.length > 0;
  const account = accountInPath ? parts.shift()! : null;
  const container = parts.shift();
  if (!container) throw new Error(`the lake ${describeLake(given)} names no container: give https://ACCOUNT.blob.core.windows.net/CONTAINER/prefix`);
  return {
    kind: 'blob',
    serviceUrl: account === null ? url.origin : `${url.origin}/${account}`,
    container,
    prefix: parts.join('/'),
    sas: url.search.length > 1 ? url.search.slice(1) : null,
  };
}

/** The lake as it may be logged: a SAS token (the URL's query) is left out. */
export function describeLake(text: string): string {
  const q = text.indexOf('?');
  return q < 0 ? text : `${text.slice(0, q)}?<SAS redacted>`;
}
