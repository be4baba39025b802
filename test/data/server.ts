/**
 * A loopback HTTP server for download tests: serves files from memory on 127.0.0.1 with
 * Range support, can drop a connection part-way or serve wrong bytes, records every
 * request, refuses more than a bounded number of them and closes itself after a while.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServeOptions {
  /** Per path: cut the connection after this many bytes of the first response(s). */
  dropAfter?: Record<string, number>;
  /** How many responses of a path are cut (default 1). */
  drops?: number;
  /** Per path: ignore Range headers (answer 200 with the whole file). */
  noRange?: Set<string>;
  maxRequests?: number;
}

export interface TestServer {
  url: string;
  requests: { path: string; range: string | null; status: number }[];
  close(): Promise<void>;
}

export async function serve(files: Record<string, Uint8Array>, opts: ServeOptions = {}): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const dropped: Record<string, number> = {};
  const max = opts.maxRequests ?? 100;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range ?? null;
    const record = (status: number) => requests.push({ path, range, status });
    if (requests.length >= max) {
      record(503);
      res.writeHead(503).end();
      return;
    }
    const body = files[path];
    if (!body) {
      record(404);
      res.writeHead(404, 'Not Found').end();
      return;
    }
    let start = 0;
    const m = range && !opts.noRange?.has(path) ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) start = Number(m[1]);
    if (start >= body.length && m) {
      record(416);
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const part = body.subarray(start);
    const status = m ? 206 : 200;
    record(status);
    res.writeHead(status, {
      'content-length': part.length,
      'content-type': 'application/octet-stream',
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = opts.dropAfter?.[path];
    if (cut !== undefined && (dropped[path] ?? 0) < (opts.drops ?? 1) && cut < part.length) {
      dropped[path] = (dropped[path] ?? 0) + 1;
      res.write(part.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stopTimer = setTimeout(() => server.close(), 60_000);
  stopTimer.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(stopTimer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
