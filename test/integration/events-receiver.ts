// A real webhook receiver for the events tests: node:http on 127.0.0.1, recording every POST it
// gets (headers, raw body, arrival time) and answering as the test tells it to.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  id: string;
  type: string;
  attempt: number;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A status code, 'hang' (never answer), or 'reset' (drop the connection). */
export type Answer = number | 'hang' | 'reset';

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  /** Decides the answer to each POST; default 200. */
  answer: (r: Received, nthForId: number) => Answer;
  ids(): Set<string>;
  countById(): Map<string, number>;
  waitFor(pred: () => boolean, timeoutMs: number, what?: string): Promise<void>;
  /** Stops listening (connections dropped): the receiver is "down". */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const seen = new Map<string, number>();
  let server: Server | undefined;
  const r: Receiver = {
    url: '',
    port,
    got: [],
    answer: () => 200,
    ids: () => new Set(r.got.map((g) => g.id)),
    countById() {
      const m = new Map<string, number>();
      for (const g of r.got) m.set(g.id, (m.get(g.id) ?? 0) + 1);
      return m;
    },
    async waitFor(pred, timeoutMs, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received ${r.got.length} POSTs)`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((res) => s.close(() => res()));
    },
    async reopen() {
      await listen();
    },
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const id = String(req.headers['x-xline-event-id'] ?? '');
          const g: Received = {
            id,
            type: String(req.headers['x-xline-event-type'] ?? ''),
            attempt: Number(req.headers['x-xline-attempt']),
            headers: req.headers,
            body: Buffer.concat(chunks).toString(),
            at: Date.now(),
          };
          r.got.push(g);
          const n = (seen.get(id) ?? 0) + 1;
          seen.set(id, n);
          const a = r.answer(g, n);
          if (a === 'hang') return;
          if (a === 'reset') return req.socket.destroy();
          res.writeHead(a, { 'content-type': 'text/plain' }).end('ok');
        });
      });
      s.keepAliveTimeout = 30_000;
      s.once('error', reject);
      s.listen(r.port, '127.0.0.1', () => {
        r.port = (s.address() as AddressInfo).port;
        r.url = `http://127.0.0.1:${r.port}/hook`;
        server = s;
        resolve();
      });
    });
  await listen();
  return r;
}
