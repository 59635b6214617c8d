// sipp (Debian sip-tester) as caller (UAC) and far end (UAS) for SIP tests and benchmarks.
// Every message sipp sent or received is logged with -trace_msg and parsed here, so tests
// assert what the far end really received (Request-URI, From, leaked headers, Reason).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpTcpPort } from './drachtio.js';
import { requireBinary } from './binaries.js';

export const sippBin = requireBinary('sipp', 'SIPP_BIN', 'apt-get install -y sip-tester');
export const SCENARIO_DIR = fileURLToPath(new URL('../sip/scenarios/', import.meta.url));

export interface SippOptions {
  /** File in test/sip/scenarios, or an absolute path. */
  scenario: string;
  transport?: 'udp' | 'tcp';
  /** Local address (-i): 127.0.0.N varies the caller's source address. */
  localIp?: string;
  /** Local SIP port (-p); a free one when unset. */
  port?: number;
  /** UAC only: where to send (drachtio's SIP address). */
  remote?: string;
  /** [service]: the UAC's Request-URI user (X in any form). */
  service?: string;
  /** [caller]: the UAC's From user. */
  caller?: string;
  /** [extra_hdr]: one extra INVITE header line (e.g. P-Asserted-Identity). */
  extraHeader?: string;
  /** -d: pause length in the scenario (call hold time, or ring time for UAS). */
  durationMs?: number;
  /** -m: calls before exiting (default 1). */
  calls?: number;
  /** -r / -l: rate (calls per second) and concurrent call cap. */
  rate?: number;
  limit?: number;
  /** -timeout, seconds (default 20); reaching it is an error. */
  timeoutSec?: number;
  /** Log every message (default true; off for load runs). */
  traceMessages?: boolean;
  extraArgs?: string[];
}

export interface SipMsg {
  direction: 'sent' | 'received';
  transport: string;
  raw: string;
  startLine: string;
  /** Request method, or undefined for responses. */
  method?: string;
  /** Request-URI for requests. */
  uri?: string;
  status?: number;
  headers: Array<[string, string]>;
  body: string;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
}

export interface SippResult {
  code: number | null;
  output: string;
  messages: SipMsg[];
  errors: string;
  /** Contents of the -trace_stat CSV (load runs). */
  dir: string;
}

export interface SippProcess {
  port: number;
  done: Promise<SippResult>;
  /** What sipp has logged so far (-trace_msg is written as it goes), while it runs. */
  messagesSoFar(): SipMsg[];
  /** Ends sipp (SIGUSR1 = graceful quit, then SIGKILL) and returns what it logged. */
  stop(): Promise<SippResult>;
}

export async function startSipp(o: SippOptions): Promise<SippProcess> {
  if (!sippBin) throw new Error('sipp binary not found');
  const dir = mkdtempSync(join(tmpdir(), 'xline-sipp-'));
  const port = o.port ?? (await freeUdpTcpPort());
  const mediaPort = await freeUdpRange(4);
  const scenario = isAbsolute(o.scenario) ? o.scenario : join(SCENARIO_DIR, o.scenario);
  const msgFile = join(dir, 'messages.log');
  const errFile = join(dir, 'errors.log');
  const args = [
    ...(o.remote ? [o.remote] : []),
    '-sf', scenario,
    '-t', o.transport === 'tcp' ? 't1' : 'u1',
    '-i', o.localIp ?? '127.0.0.1',
    '-p', String(port),
    '-mp', String(mediaPort),
    '-m', String(o.calls ?? 1),
    '-timeout', `${o.timeoutSec ?? 20}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err', '-error_file', errFile,
    '-key', 'caller', o.caller ?? 'anonymous',
    '-key', 'extra_hdr', o.extraHeader ?? 'Subject: xline test call',
    ...(o.traceMessages === false ? [] : ['-trace_msg', '-message_file', msgFile]),
    ...(o.service ? ['-s', o.service] : []),
    ...(o.durationMs !== undefined ? ['-d', String(o.durationMs)] : []),
    ...(o.rate !== undefined ? ['-r', String(o.rate)] : []),
    ...(o.limit !== undefined ? ['-l', String(o.limit)] : []),
    ...(o.extraArgs ?? []),
  ];
  const child = spawn(sippBin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const done = new Promise<SippResult>((resolve) => {
    child.once('exit', (code) => {
      resolve({
        code,
        output,
        messages: existsSync(msgFile) ? parseMessageLog(readFileSync(msgFile, 'latin1')) : [],
        errors: existsSync(errFile) ? readFileSync(errFile, 'latin1') : '',
        dir,
      });
    });
  });
  // Give the UAS a moment to bind its socket before a caller dials it.
  await new Promise((r) => setTimeout(r, 150));
  return {
    port,
    done,
    messagesSoFar: () => (existsSync(msgFile) ? parseMessageLog(readFileSync(msgFile, 'latin1')) : []),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGUSR1');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await done;
        clearTimeout(t);
      }
      return done;
    },
  };
}

/**
 * A base port with `n` consecutive free UDP ports: sipp binds its audio echo socket on -mp and
 * its video socket on -mp + 2, and exits when either is taken.
 */
async function freeUdpRange(n: number): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const tryBind = (port: number) =>
    new Promise<import('node:dgram').Socket | undefined>((res) => {
      const sock = createSocket('udp4');
      sock.once('error', () => res(undefined));
      sock.bind(port, '127.0.0.1', () => res(sock));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 20_000);
    const held: import('node:dgram').Socket[] = [];
    for (let i = 0; i < n; i++) {
      const sock = await tryBind(base + i);
      if (!sock) break;
      held.push(sock);
    }
    await Promise.all(held.map((h) => new Promise<void>((r) => h.close(() => r()))));
    if (held.length === n) return base;
  }
  throw new Error(`no ${n} consecutive free UDP ports`);
}

/** Runs sipp to completion. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  return (await startSipp(o)).done;
}

export function cleanupSipp(r: SippResult): void {
  rmSync(r.dir, { recursive: true, force: true });
}

const COMPACT: Record<string, string> = { f: 'from', t: 'to', i: 'call-id', m: 'contact', v: 'via', l: 'content-length', c: 'content-type', k: 'supported', e: 'content-encoding' };

/** Splits sipp's -trace_msg log into messages. */
export function parseMessageLog(text: string): SipMsg[] {
  const out: SipMsg[] = [];
  const blocks = text.split(/^-{20,}.*$/m);
  for (const block of blocks) {
    const m = /^\s*(UDP|TCP|TLS|SCTP)\s+message\s+(sent|received)[^\n]*\n([\s\S]*)$/m.exec(block.trimStart());
    if (!m) continue;
    const raw = m[3]!.replace(/^\s*\n/, '').replace(/\r\n/g, '\n').replace(/\n+$/, '\n');
    const msg = parseSip(raw);
    if (msg) out.push({ ...msg, direction: m[2] as 'sent' | 'received', transport: m[1]! });
  }
  return out;
}

function parseSip(raw: string): Omit<SipMsg, 'direction' | 'transport'> | undefined {
  const split = raw.indexOf('\n\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 2) : '';
  const lines = head.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
  const startLine = lines.shift();
  if (!startLine) return undefined;
  const headers: Array<[string, string]> = [];
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, l.slice(i + 1).trim()]);
  }
  const resp = /^SIP\/2\.0\s+(\d{3})/.exec(startLine);
  const req = /^([A-Z]+)\s+(\S+)\s+SIP\/2\.0$/.exec(startLine);
  return {
    raw,
    startLine,
    ...(resp ? { status: Number(resp[1]) } : {}),
    ...(req ? { method: req[1], uri: req[2] } : {}),
    headers,
    body,
    header: (n: string) => headers.find(([k]) => k === n.toLowerCase())?.[1],
    headerAll: (n: string) => headers.filter(([k]) => k === n.toLowerCase()).map(([, v]) => v),
  };
}

/** User part of a URI in a header value or Request-URI: `"x" <sip:123@h>;tag=1` → `123`. */
export function uriUser(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /(?:sips?|tel):([^@;>]+)/.exec(value);
  return m?.[1];
}
