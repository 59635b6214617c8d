// A real FreeSWITCH per test file: the repo's freeswitch/conf copied to a temp dir, started on
// loopback with free ports (XLINE_FS_* environment overrides, see freeswitch/conf/vars.xml) and
// the repo's prompts. Restartable on the same ports for the "FreeSWITCH restarted" tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/store/embedded-redis.js';
import { probeEventSocket } from '../../src/media/esl-probe.js';
import { requireBinary } from './binaries.js';
import { freeUdpTcpPort } from './drachtio.js';

export const freeswitchBin = requireBinary('freeswitch', 'FREESWITCH_BIN', 'build FreeSWITCH from signalwire/freeswitch, see README');
export const FS_CONF = fileURLToPath(new URL('../../freeswitch/conf/', import.meta.url));
export const FS_SOUNDS = fileURLToPath(new URL('../../freeswitch/sounds/', import.meta.url));

export interface FreeSwitch {
  eslPort: number;
  password: string;
  sipPort: number;
  rtpStart: number;
  rtpEnd: number;
  /** Temp dir holding conf/, log/, run/, db/ … */
  dir: string;
  output(): string;
  /** Sends an API command over a fresh event-socket connection (test assertions). */
  api(command: string): Promise<string>;
  stop(): Promise<void>;
  /** Stops and starts again on the same ports. */
  restart(): Promise<void>;
  /** Kills the process hard (crash), without restarting. */
  kill(): Promise<void>;
  /** The running process (CPU figures in benchmarks). */
  pid(): number | undefined;
  start(): Promise<void>;
}

/** RTP ranges per test worker, so two FreeSWITCHes started by parallel test files never clash. */
function rtpRange(): [number, number] {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
  const start = 30000 + ((worker * 7 + (process.pid % 5)) % 14) * 2000;
  return [start, start + 1999];
}

// FreeSWITCH makes DTLS/WSS certificates on a first start (RSA keys: seconds of CPU); one set is
// kept here for every test instance instead.
const CERT_CACHE = join(tmpdir(), 'xline-freeswitch-certs');
const DIRS = ['log', 'run', 'db', 'temp', 'storage', 'cache', 'recordings', 'certs'];

/** A temporary directory for one instance: the repo's conf copied, its own dirs, the kept certificates. */
function instanceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xline-fs-'));
  cpSync(FS_CONF, join(dir, 'conf'), { recursive: true });
  for (const d of DIRS) mkdirSync(join(dir, d));
  if (existsSync(join(CERT_CACHE, 'dtls-srtp.pem'))) cpSync(CERT_CACHE, join(dir, 'certs'), { recursive: true });
  return dir;
}

/** Keeps the certificates an instance made on its first start, unless some are kept already. */
function keepCerts(dir: string): void {
  if (existsSync(join(CERT_CACHE, 'dtls-srtp.pem')) || !existsSync(join(dir, 'certs', 'dtls-srtp.pem'))) return;
  const tmp = mkdtempSync(join(tmpdir(), 'xline-freeswitch-certs-'));
  cpSync(join(dir, 'certs'), tmp, { recursive: true });
  try {
    renameSync(tmp, CERT_CACHE);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test file won the race
  }
}

export async function startFreeSwitch(opts: { password?: string; loglevel?: string; rtp?: [number, number] } = {}): Promise<FreeSwitch> {
  if (!freeswitchBin) throw new Error('freeswitch binary not found');
  const bin = freeswitchBin;
  const dir = instanceDir();
  const conf = join(dir, 'conf');
  const password = opts.password ?? 'ClueCon';
  const eslPort = await freePort();
  const sipPort = await freeUdpTcpPort();
  const [rtpStart, rtpEnd] = opts.rtp ?? rtpRange();
  let out = '';
  let child: ChildProcess | undefined;

  const env = {
    ...process.env,
    XLINE_FS_ESL_PORT: String(eslPort),
    XLINE_FS_ESL_PASSWORD: password,
    XLINE_FS_SIP_PORT: String(sipPort),
    XLINE_FS_RTP_START: String(rtpStart),
    XLINE_FS_RTP_END: String(rtpEnd),
    XLINE_FS_LOGLEVEL: opts.loglevel ?? process.env.FREESWITCH_LOGLEVEL ?? 'warning',
  };

  const launch = async () => {
    const args = [
      '-nc', '-nf', '-nonat', '-np',
      '-conf', conf,
      '-sounds', FS_SOUNDS,
      ...DIRS.flatMap((d) => [`-${d}`, join(dir, d)]),
    ];
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    child = c;
    const keep = (d: Buffer) => {
      out += d.toString();
      if (out.length > 400_000) out = out.slice(-200_000);
    };
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
    await eslReady(c, eslPort, password, () => out);
  };

  const stopWith = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(t);
  };

  await launch();
  keepCerts(dir);
  return {
    eslPort,
    password,
    sipPort,
    rtpStart,
    rtpEnd,
    dir,
    output: () => out,
    api: (command) => eslApi(eslPort, password, command),
    async stop() {
      await stopWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopWith('SIGTERM');
      await launch();
    },
    kill: () => stopWith('SIGKILL'),
    pid: () => child?.pid,
    start: launch,
  };
}

/** Resolves once FreeSWITCH's event socket takes the password (30 s at most; the child killed then). */
async function eslReady(c: ChildProcess, eslPort: number, password: string, out: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await probeEventSocket({ host: '127.0.0.1', port: eslPort, password, timeoutMs: 1000 });
      return;
    } catch (err) {
      if (c.exitCode !== null) throw new Error(`freeswitch exited (${c.exitCode}):\n${out().slice(-3000)}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`freeswitch not ready on ESL ${eslPort}: ${String(err)}\n${out().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** One API command over its own event-socket connection. */
export async function eslApi(port: number, password: string, command: string): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = '';
    let stage = 0;
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`eslApi ${command}: timeout`));
    }, 5000);
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const len = Number(/Content-Length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 2 + len) return;
        const body = buf.slice(end + 2, end + 2 + len);
        buf = buf.slice(end + 2 + len);
        if (stage === 0 && /auth\/request/.test(head)) {
          stage = 1;
          s.write(`auth ${password}\n\n`);
        } else if (stage === 1 && /command\/reply/.test(head)) {
          stage = 2;
          s.write(`api ${command}\n\n`);
        } else if (stage === 2 && /api\/response/.test(head)) {
          clearTimeout(t);
          s.end('exit\n\n');
          resolve(body);
          return;
        }
      }
    });
  });
}

/** Channels FreeSWITCH holds right now (`show channels count`). */
export async function channelCount(fs: FreeSwitch): Promise<number> {
  const r = await fs.api('show channels count');
  const m = /(\d+)\s+total/.exec(r);
  return m ? Number(m[1]) : Number.NaN;
}

export { freePort };
