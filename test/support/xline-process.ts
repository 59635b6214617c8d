// xline as users run it (src/main.ts) in a child process of its own: for scale-out tests that
// need several instances, and one that can be SIGKILLed. Its pino JSON log lines are parsed so
// tests can see which instance handled which call; its admin API answers /v1/health and /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/store/embedded-redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

export interface XlineProcess {
  name: string;
  adminPort: number;
  pid: number;
  /** Every JSON log line so far. */
  lines: LogLine[];
  /** The last ~200-400 KB printed (for failure messages). */
  output(): string;
  /** Everything printed on stdout and stderr since the start, never cut. */
  fullOutput(): string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  waitLog(pred: (l: LogLine) => boolean, ms: number, what: string): Promise<LogLine>;
  health(): Promise<Record<string, unknown>>;
  /** Sum of a Prometheus metric's samples (optionally those whose labels contain `labels`). */
  metric(name: string, labels?: string): Promise<number>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (xline drains), SIGKILL after `ms`. */
  stop(ms?: number): Promise<void>;
}

export async function startXlineProcess(name: string, env: Record<string, string>): Promise<XlineProcess> {
  const adminPort = await freePort();
  // One node process (no npx/tsx wrapper), so a signal reaches xline itself.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      XLINE_INSTANCE_ID: name,
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { lines, output, fullOutput } = readOutput(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${adminPort}`;

  const p: XlineProcess = {
    name,
    adminPort,
    pid: child.pid!,
    lines,
    output,
    fullOutput,
    exited,
    async waitLog(pred, ms, what) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited while waiting for ${what}:\n${output().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`${name}: timed out waiting for ${what}:\n${output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async health() {
      const r = await fetch(`${base}/v1/health`, { signal: AbortSignal.timeout(2000) });
      return (await r.json()) as Record<string, unknown>;
    },
    async metric(metric, labels) {
      const r = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) });
      const text = await r.text();
      let sum = 0;
      for (const l of text.split('\n')) {
        if (!l.startsWith(metric) || (l[metric.length] !== ' ' && l[metric.length] !== '{')) continue;
        if (labels && !l.includes(labels)) continue;
        sum += Number(l.slice(l.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    kill(signal) {
      child.kill(signal);
    },
    async stop(ms = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(t);
    },
  };
  return p;
}

/** The child's pino JSON lines as they come, and what it printed (the last ~200-400 KB, and all of it). */
function readOutput(child: ChildProcess): { lines: LogLine[]; output(): string; fullOutput(): string } {
  let out = '';
  const all: string[] = [];
  let partial = '';
  const lines: LogLine[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString();
    all.push(s);
    out += s;
    if (out.length > 400_000) out = out.slice(-200_000);
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    all.push(d.toString());
    out += d.toString();
  });
  return { lines, output: () => out, fullOutput: () => all.join('') };
}
