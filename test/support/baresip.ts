// Real softphones for tests: Debian's baresip, headless. Each phone is one baresip process with
// its own config directory: SIP (UDP and TCP) and its SDP address on a loopback address of its
// own (127.a.b.c), a sine tone file as its microphone (aufile), what it hears dumped to WAV
// files (sndfile: `*-dec.wav` is the decoded audio it received), auto-answer, RFC 2833 digits,
// and a full SIP trace (`-s`). Driven over its ctrl_tcp interface (netstring JSON commands,
// call events back).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/store/embedded-redis.js';
import { requireBinary } from './binaries.js';
import { readWav, writeToneWav, type Pcm } from './tone.js';

export const baresipBin = requireBinary('baresip', 'BARESIP_BIN', 'apt-get install -y baresip-core');
/** Debian's module directory; another build's with BARESIP_MODULES. */
const MODULES = process.env.BARESIP_MODULES ?? '/usr/lib/baresip/modules';

export interface PhoneOptions {
  /** Names the phone in messages and its directory under `dir`. */
  name: string;
  /** The phone's number: its account is sip:<number>@<address>:<port>. */
  number: string;
  /** Loopback address for SIP and media (SDP c= and o=); the phone's RTP sockets bind 0.0.0.0. */
  address: string;
  /** SIP port (UDP and TCP; TLS takes port + 1); default: a free one. */
  port?: number;
  /** Transport of the requests it sends (it listens on both). */
  transport?: 'udp' | 'tcp';
  /** The tone it plays as its microphone once a call is up. */
  toneHz: number;
  /** Length of the tone file; the source falls silent at its end. */
  toneSec?: number;
  /** First of its 100 RTP/RTCP ports (default: random in 10000-29899). */
  rtpBase?: number;
  /** Answer incoming calls at once (default); false: they ring until accept(). */
  autoAnswer?: boolean;
  /** Parent directory (the phone's config, tone and dumps go into dir/<name>). */
  dir: string;
}

export interface PhoneEvent {
  /** Local time of arrival (ms since epoch). */
  at: number;
  type: string;
  param?: string;
  peeruri?: string;
  direction?: string;
}

/** One SIP message from the phone's trace. */
export interface TracedSip {
  direction: 'sent' | 'received';
  transport: string;
  src: string;
  dst: string;
  raw: string;
  startLine: string;
  /** Request method, or undefined for a response. */
  method?: string;
  status?: number;
  header(name: string): string | undefined;
  body: string;
}

export interface Phone {
  readonly name: string;
  readonly number: string;
  readonly address: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly toneHz: number;
  /** Its RTP/RTCP ports are in this range (bound on 0.0.0.0, so they send from 127.0.0.1). */
  readonly rtpPorts: readonly [number, number];
  /** sip:<number>@<address>:<port>[;transport=tcp] */
  readonly aor: string;
  readonly events: PhoneEvent[];
  dial(uri: string): Promise<void>;
  accept(): Promise<void>;
  hangup(): Promise<void>;
  /** RFC 2833 telephone events, one per digit, `gapMs` apart. */
  sendDigits(digits: string, gapMs?: number): Promise<void>;
  /** Resolves with the first event of `type` (already seen or to come). */
  waitEvent(type: string, ms?: number): Promise<PhoneEvent>;
  /** Every SIP message the phone sent or received so far. */
  sip(): TracedSip[];
  /** What the phone received and decoded (its loudspeaker), all calls in order; empty if nothing. */
  heard(): Pcm;
  /** Everything baresip printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** A random 127.a.b.0/24 block, so that the addresses of one run are its own on a shared host. */
export function loopbackBlock(): (host: number) => string {
  const a = 16 + Math.floor(Math.random() * 230);
  const b = Math.floor(Math.random() * 256);
  return (host) => `127.${a}.${b}.${host}`;
}

export async function startPhone(o: PhoneOptions): Promise<Phone> {
  if (!baresipBin) throw new Error('baresip binary not found');
  const dir = join(o.dir, o.name);
  const dumps = join(dir, 'heard');
  mkdirSync(dumps, { recursive: true });
  const transport = o.transport ?? 'udp';
  const port = o.port ?? (await freePort());
  const ctrlPort = await freePort();
  // RTP: a window of its own in 10000-29999, below the test FreeSWITCH's and relay's ranges.
  const rtpMin = o.rtpBase ?? 10_000 + 2 * Math.floor(Math.random() * 9_950);
  const tp = transport === 'tcp' ? ';transport=tcp' : '';
  const aor = `sip:${o.number}@${o.address}:${port}${tp}`;
  writeConfig(o, { dir, dumps, port, ctrlPort, rtpMin, aor });

  const { child, out } = spawnBaresip(baresipBin, dir);
  const ctrl = await connectCtrl(o, child, ctrlPort, out);
  const { events, waiters, command } = ctrlChannel(o.name, ctrl);
  const peers = new Set<string>();

  return {
    name: o.name,
    number: o.number,
    address: o.address,
    port,
    transport,
    toneHz: o.toneHz,
    rtpPorts: [rtpMin, rtpMin + 99],
    aor,
    events,
    dial(uri) {
      // Where it sends requests: the trace tells the phone's messages from the peer's by it.
      const hostport = /@([^;>\s]+)/.exec(uri)?.[1];
      if (hostport) peers.add(hostport);
      return command('dial', uri);
    },
    accept: () => command('accept'),
    hangup: () => command('hangup'),
    async sendDigits(digits, gapMs = 300) {
      for (const d of digits) {
        await command('sndcode', d);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    },
    waitEvent(type, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.find((x) => x.type === type);
          if (!e) return false;
          waiters.delete(check);
          clearTimeout(t);
          resolve(e);
          return true;
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`baresip ${o.name}: no ${type} in ${ms} ms; events: ${events.map((e) => e.type).join(', ')}\n${out().slice(-2500)}`));
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
    sip: () => parseTrace(out(), `${o.address}:${port}`, peers),
    heard: () => heardAudio(dumps),
    output: out,
    async stop() {
      ctrl.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** baresip on the config in `dir`, with its SIP trace (-s); killed if this process exits first. */
function spawnBaresip(bin: string, dir: string): { child: ChildProcess; out(): string } {
  let out = '';
  const child: ChildProcess = spawn(bin, ['-f', dir, '-s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const keep = (d: Buffer) => {
    out += d.toString('latin1');
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, out: () => out };
}

/** The phone's config, accounts and contacts files in `w.dir` (headless: a tone file is its microphone). */
function writeConfig(o: PhoneOptions, w: { dir: string; dumps: string; port: number; ctrlPort: number; rtpMin: number; aor: string }): void {
  const tone = writeToneWav(join(w.dir, `tone-${o.toneHz}.wav`), o.toneHz, o.toneSec ?? 30);
  writeFileSync(
    join(w.dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen ${o.address}:${w.port}`,
      `net_interface ${o.address}`,
      'call_local_timeout 120',
      'call_max_calls 4',
      // Headless: aubridge devices with no partner play nowhere; aufile is the microphone.
      `audio_player aubridge,${o.name}-out`,
      `audio_alert aubridge,${o.name}-alert`,
      `audio_source aufile,${tone}`,
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'ausrc_channels 1',
      'auplay_channels 1',
      `rtp_ports ${w.rtpMin}-${w.rtpMin + 99}`,
      'rtcp_mux no',
      `module_path ${MODULES}`,
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_tmp account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen ${o.address}:${w.ctrlPort}`,
      `snd_path ${w.dumps}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(w.dir, 'accounts'),
    `<${w.aor}>;regint=0;answermode=${o.autoAnswer === false ? 'manual' : 'auto'};audio_codecs=PCMU,PCMA;ptime=20\n`,
  );
  writeFileSync(join(w.dir, 'contacts'), '');
}

/** A connection to the phone's ctrl_tcp port once it listens (10 s at most; the phone killed then). */
async function connectCtrl(o: PhoneOptions, child: ChildProcess, ctrlPort: number, out: () => string): Promise<Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baresip ${o.name} exited (${child.exitCode}):\n${out().slice(-3000)}`);
    const sock = await new Promise<Socket | undefined>((res) => {
      const s = connect({ host: o.address, port: ctrlPort });
      s.once('connect', () => res(s));
      s.once('error', () => res(undefined));
    });
    if (sock) return sock;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`baresip ${o.name} did not open ctrl_tcp ${o.address}:${ctrlPort}:\n${out().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * ctrl_tcp's netstring JSON: the phone's events collected (each waiter called on every new one),
 * and command() resolving on the phone's answer to it (5 s at most).
 */
function ctrlChannel(name: string, ctrl: Socket): { events: PhoneEvent[]; waiters: Set<() => void>; command(name: string, params?: string): Promise<void> } {
  const events: PhoneEvent[] = [];
  const waiters = new Set<() => void>();
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  let buf = Buffer.alloc(0);
  ctrl.on('error', () => undefined);
  ctrl.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    // netstrings: <length>:<json>,
    for (;;) {
      const colon = buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 2 + len) return;
      const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + len).toString()) as Record<string, unknown>;
      buf = buf.subarray(colon + 2 + len);
      if (msg.event) {
        events.push({
          at: Date.now(),
          type: String(msg.type),
          ...(typeof msg.param === 'string' ? { param: msg.param } : {}),
          ...(typeof msg.peeruri === 'string' ? { peeruri: msg.peeruri } : {}),
          ...(typeof msg.direction === 'string' ? { direction: msg.direction } : {}),
        });
        for (const w of [...waiters]) w();
      } else if (msg.response && typeof msg.token === 'string') {
        const p = pending.get(msg.token);
        pending.delete(msg.token);
        if (msg.ok) p?.resolve();
        else p?.reject(new Error(`baresip ${name}: ${msg.token} failed: ${String(msg.data)}`));
      }
    }
  });
  let seq = 0;
  const command = (cmd: string, params = '') =>
    new Promise<void>((resolve, reject) => {
      const token = `${cmd}-${++seq}`;
      const t = setTimeout(() => {
        pending.delete(token);
        reject(new Error(`baresip ${name}: no answer to ${cmd} ${params}`));
      }, 5000);
      pending.set(token, {
        resolve: () => (clearTimeout(t), resolve()),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      const json = JSON.stringify({ command: cmd, params, token });
      ctrl.write(`${Buffer.byteLength(json)}:${json},`);
    });
  return { events, waiters, command };
}

/** What the phone played (its decoder's dumps in `dumps`), one PCM stream. */
function heardAudio(dumps: string): Pcm {
  const files = existsSync(dumps) ? readdirSync(dumps).filter((f) => f.endsWith('-dec.wav')).sort() : [];
  const parts = files.map((f) => readWav(join(dumps, f)));
  const samples = new Int16Array(parts.reduce((n, p) => n + p.samples.length, 0));
  let off = 0;
  for (const p of parts) {
    samples.set(p.samples, off);
    off += p.samples.length;
  }
  return { rate: parts[0]?.rate ?? 8000, samples };
}

/**
 * baresip's `-s` trace: each message printed as `#`, `<TRANSPORT> <src> -> <dst>`, the message,
 * between colour escapes, with no word of its direction. The addresses cannot tell it (a TCP
 * connection the phone opens has an ephemeral local end, and answers come back on it), the top
 * Via can: the phone's own requests carry its SIP address `self` (address:port) there, and the
 * responses it sends carry the requester's. `peers` is kept for messages without a Via.
 */
export function parseTrace(text: string, self: string, peers: ReadonlySet<string> = new Set()): TracedSip[] {
  const out: TracedSip[] = [];
  const re = /#\r?\n(UDP|TCP|TLS|WS|WSS) (\S+) -> (\S+)\r?\n([\s\S]*?)\x1b\[;m/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const raw = m[4]!;
    const split = raw.indexOf('\r\n\r\n');
    const head = split < 0 ? raw : raw.slice(0, split);
    const body = split < 0 ? '' : raw.slice(split + 4);
    const lines = head.split('\r\n');
    const startLine = lines[0]!.trim();
    const status = /^SIP\/2\.0 (\d{3})/.exec(startLine)?.[1];
    const method = status ? undefined : /^([A-Z]+) /.exec(startLine)?.[1];
    const headers = lines.slice(1);
    const via = headers.find((l) => /^(via|v)\s*:/i.test(l));
    const viaSelf = via ? via.replace(/^[^:]*:\s*SIP\/2\.0\/\S+\s+/i, '').split(/[;,\s]/)[0] === self : undefined;
    const sent = viaSelf === undefined ? m[2] === self || peers.has(m[3]!) : status ? !viaSelf : viaSelf;
    out.push({
      direction: sent ? 'sent' : 'received',
      transport: m[1]!,
      src: m[2]!,
      dst: m[3]!,
      raw,
      startLine,
      ...(method ? { method } : {}),
      ...(status ? { status: Number(status) } : {}),
      header(name) {
        const n = name.toLowerCase();
        const line = headers.find((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === n);
        return line?.slice(line.indexOf(':') + 1).trim();
      },
      body,
    });
  }
  return out;
}
