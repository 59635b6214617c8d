// A real drachtio-server per test file, on free loopback ports, with the repo's config
// (test/fixtures/drachtio.conf.xml). Restartable on the same ports for resilience tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/store/embedded-redis.js';
import { requireBinary } from './binaries.js';
import { tcpListening } from './xline-http.js';

export const drachtioBin = requireBinary('drachtio', 'DRACHTIO_BIN', 'build drachtio-server from source, see README');
export const CONFIG = fileURLToPath(new URL('../fixtures/drachtio.conf.xml', import.meta.url));

export interface DrachtioServer {
  /** Admin (app) port and secret: DRACHTIO_PORT / DRACHTIO_SECRET for xline. */
  adminPort: number;
  secret: string;
  /** SIP port on 127.0.0.1, UDP and TCP. */
  sipPort: number;
  /** Everything the server printed (for failure messages). */
  output(): string;
  /** Process id while running (benchmarks sample its CPU time). */
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Stops and starts again on the same ports. */
  restart(): Promise<void>;
}

export async function startDrachtio(
  opts: { secret?: string; loglevel?: string; extraArgs?: string[]; /** Also append everything to this file (debugging). */ logFile?: string } = {},
): Promise<DrachtioServer> {
  if (!drachtioBin) throw new Error('drachtio binary not found');
  const bin = drachtioBin;
  const secret = opts.secret ?? 'cymru';
  const adminPort = await freePort();
  const sipPort = await freeUdpTcpPort();
  let out = '';
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = [
      '-f', CONFIG,
      '--address', '127.0.0.1',
      '--port', String(adminPort),
      '--secret', secret,
      '--contact', `sip:127.0.0.1:${sipPort};transport=udp,tcp`,
      '--loglevel', opts.loglevel ?? process.env.DRACHTIO_LOGLEVEL ?? 'info',
      ...(opts.extraArgs ?? []),
    ];
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    // A test process that dies without its afterAll must not leave drachtio-server behind.
    const reap = () => c.kill('SIGKILL');
    process.once('exit', reap);
    c.once('exit', () => process.off('exit', reap));
    const keep = (d: Buffer) => {
      if (opts.logFile) appendFileSync(opts.logFile, d);
      out += d.toString();
      if (out.length > 400_000) out = out.slice(-200_000);
    };
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
    const deadline = Date.now() + 10_000;
    while (!(await tcpListening(adminPort))) {
      if (c.exitCode !== null) throw new Error(`drachtio exited (${c.exitCode}):\n${out.slice(-3000)}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`drachtio did not open admin port ${adminPort}:\n${out.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };

  await launch();
  return {
    adminPort,
    secret,
    sipPort,
    output: () => out,
    pid: () => child?.pid,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both). */
export async function freeUdpTcpPort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    const ok = await new Promise<boolean>((res) => {
      const s = createSocket('udp4');
      s.once('error', () => res(false));
      s.bind(p, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free UDP+TCP port');
}
