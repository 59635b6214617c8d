// A real rtpengine (Debian's rtpengine-daemon) per test file: userspace only (no kernel module,
// --table=-1), ng protocol on a free loopback UDP port, RTP on 127.0.0.1 in a port range of its
// own, no config file, deleted calls forgotten at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { freeUdpTcpPort } from './drachtio.js';
import { requireBinary } from './binaries.js';

export const rtpengineBin = requireBinary('rtpengine', 'RTPENGINE_BIN', 'apt-get install -y rtpengine-daemon');

export interface Rtpengine {
  /** ng control address: RTPENGINE_NG for xline. */
  host: string;
  port: number;
  ng: string;
  /** Address the relay's RTP ports are on (what parties must see in c=). */
  mediaAddress: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startRtpengine(opts: { mediaAddress?: string } = {}): Promise<Rtpengine> {
  if (!rtpengineBin) throw new Error('rtpengine binary not found');
  const port = await freeUdpTcpPort();
  const mediaAddress = opts.mediaAddress ?? '127.0.0.1';
  // A range of its own per process: two test files may run side by side.
  const min = 30_000 + 2 * Math.floor(Math.random() * 4_500);
  const args = [
    '--config-file=none',
    '--foreground',
    '--log-stderr',
    '--table=-1',
    `--interface=${mediaAddress}`,
    `--listen-ng=127.0.0.1:${port}`,
    `--port-min=${min}`,
    `--port-max=${min + 400}`,
    '--delete-delay=0',
    `--log-level=${process.env.RTPENGINE_LOGLEVEL ?? '5'}`,
  ];
  const child: ChildProcess = spawn(rtpengineBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + 10_000;
  while (!(await pong('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}):\n${out.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rtpengine did not answer ng ping on ${port}:\n${out.slice(-3000)}`);
    }
  }
  return {
    host: '127.0.0.1',
    port,
    ng: `127.0.0.1:${port}`,
    mediaAddress,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One ng ping (bencoded by hand: the test must not depend on the client it tests). */
function pong(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, 200);
    s.on('error', () => undefined);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString().includes('pong'));
    });
    s.send('xping d7:command4:pinge', port, host);
  });
}
