import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardingProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A reverse proxy as ingress-nginx or Application Gateway behaves by default: it connects to `upstream` from
 * its own address (`source`), names the upstream in Host, and appends its client's address to any
 * X-Forwarded-For the client sent. Every request through it therefore reaches the upstream from `source`.
 */
export async function startForwardingProxy(upstream: { host: string; port: number }, source: string): Promise<ForwardingProxy> {
  const server: Server = createServer((req, res) => {
    const sent = req.headers['x-forwarded-for'];
    const forwardedFor = [sent, req.socket.remoteAddress].filter((a) => a !== undefined).join(', ');
    const forwarded = request(
      {
        host: upstream.host,
        port: upstream.port,
        localAddress: source,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `${upstream.host}:${upstream.port}`, 'x-forwarded-for': forwardedFor },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', (error) => {
      res.writeHead(502);
      res.end(error.message);
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
