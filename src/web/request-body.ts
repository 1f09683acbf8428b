import type { IncomingMessage } from 'node:http';

/** A body past the limit: answer 413. */
export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/**
 * A request body as text, refused past `maxBytes` (by its Content-Length before reading anything, or once
 * that many bytes arrived) so a client cannot make the process buffer without end. The rest of a refused
 * body is read and dropped, so the 413 still reaches the client.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new BodyTooLarge(`the request body is over ${maxBytes} bytes`);
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      chunks.length = 0;
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
