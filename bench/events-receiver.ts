// The webhook receiver of the events benchmark, in its own process (as a real receiver would be):
// answers 200 at once and reports every arrival (event id, epoch ms with sub-ms precision) to the
// parent over IPC, batched every 20 ms.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const now = () => performance.timeOrigin + performance.now();
let batch: Array<[string, number]> = [];

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    batch.push([String(req.headers['x-xline-event-id'] ?? ''), now()]);
    res.writeHead(200).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
setInterval(() => {
  if (batch.length === 0) return;
  process.send!({ arrivals: batch });
  batch = [];
}, 20);
process.on('disconnect', () => process.exit(0));
