// Media section of `npm run bench`: AXN-extension calls through the whole stack — sipp caller →
// drachtio-server → xline → FreeSWITCH answers and prompts, RFC 2833 digits from a pcap (barge-in),
// Redis lookup, B leg → sipp far end, ringback, then the media handed to caller and B by re-INVITE
// (MEDIA_ANCHOR=recording, the default; BENCH_MEDIA_ANCHOR=always keeps FreeSWITCH bridging) —
// at rising call rates, each call held HOLD_MS, so concurrency climbs to rate × hold. Baseline in the same run: the same callers and
// hold on plain AXN bindings (no media: drachtio B2BUA only). A step is clean when every call was
// answered, bridged (its CDR has a start_time) and hung up, with no sipp error. Printed per step:
// calls, failures, peak concurrent calls, and CPU of FreeSWITCH, xline (Node) and drachtio-server
// as % of one core and per call; then the highest clean rate, its peak concurrency, and xline's
// CPU per call as a ratio to the baseline's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { maskNumber } from '../src/domain/numbers.js';
import { createEventPipeline } from '../src/events/pipeline.js';
import type { CallEventSink, CallRecord } from '../src/events/types.js';
import { NUMBER_FIELDS } from '../src/log.js';
import { startMedia, type MediaService } from '../src/media/media-service.js';
import { startSipApp } from '../src/sip/app.js';
import { startRedisServer } from '../src/store/embedded-redis.js';
import { connectRedis, waitReady } from '../src/store/redis-connection.js';
import { RedisBindingStore } from '../src/store/redis-store.js';
import { findBinary } from '../src/util/binaries.js';
import { writeDtmfPcap } from '../test/media/dtmf-pcap.js';
import { callerScenario, farEndScenario } from '../test/support/sipp-scenarios.js';
import { freeUdpTcpPort, startDrachtio } from '../test/support/drachtio.js';
import { startFreeSwitch } from '../test/support/freeswitch.js';
import { cleanupSipp, startSipp } from '../test/support/sipp.js';
import { lastStats, procCpuSeconds } from './process-stats.js';

const RATES = (process.env.BENCH_MEDIA_RATES ?? '10,20,25,30').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_MEDIA_STEP_SECONDS ?? 20);
const HOLD_MS = Number(process.env.BENCH_MEDIA_HOLD_MS ?? 10_000);
const NUMBERS = Number(process.env.BENCH_MEDIA_NUMBERS ?? 500);
const TRIALS = Number(process.env.BENCH_MEDIA_TRIALS ?? 2);
/** 'extension' alone skips the same-run baseline (profiling runs). */
const KINDS = (process.env.BENCH_MEDIA_KINDS ?? 'plain,extension').split(',') as Kind[];

type Kind = 'extension' | 'plain';

interface Step {
  kind: Kind;
  rate: number;
  calls: number;
  ok: boolean;
  answered: number;
  bridged: number;
  failed: number;
  peak: number;
  seconds: number;
  fsCpu: number;
  nodeCpu: number;
  drachtioCpu: number;
  trial: number;
  note?: string;
}

/** Counts bridged calls from the CDRs and passes everything on to the real pipeline. */
class CountingSink implements CallEventSink {
  bridged = 0;
  ended = 0;
  constructor(private readonly next: CallEventSink) {}
  event(e: Parameters<CallEventSink['event']>[0]) {
    return this.next.event(e);
  }
  cdr(r: CallRecord) {
    this.ended++;
    if (r.start_time) this.bridged++;
    return this.next.cdr(r);
  }
}

export async function run(): Promise<void> {
  for (const bin of ['freeswitch', 'drachtio', 'sipp', 'redis-server']) {
    if (!findBinary(bin)) {
      console.log(`SKIPPED: '${bin}' not found on PATH (the media benchmark needs freeswitch, drachtio, sipp and redis-server)`);
      return;
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'xline-bench-media-'));
  const redisChild = await startRedisServer();
  const redis = connectRedis({ url: redisChild.url });
  redis.on('error', () => {});
  await waitReady(redis);
  const store = new RedisBindingStore(redis);
  const fs = await startFreeSwitch({ loglevel: process.env.BENCH_MEDIA_FS_LOGLEVEL ?? 'err', rtp: [20000, 29999] });
  const drachtio = await startDrachtio({ loglevel: 'error', extraArgs: ['--sofia-loglevel', '0'] });
  const farEnd = await freeUdpTcpPort();
  const stops: Array<() => unknown> = [];
  try {
    // Extension bindings: X_i with extension 1001 → A_i. Plain bindings: AXN on other X's.
    const expiresAt = Math.floor(Date.now() / 1000) + 7200;
    const rows: Record<Kind, string[]> = { extension: [], plain: [] };
    for (const kind of ['extension', 'plain'] as Kind[]) {
      const pool = `bench-media-${kind}`;
      await store.upsertPool(pool, { name: pool, strictCity: false });
      const base = kind === 'extension' ? 20_000_000 : 30_000_000;
      const xs = Array.from({ length: NUMBERS }, (_, i) => `177${String(base + i).slice(-8)}`);
      for (let i = 0; i < xs.length; i += 1000) await store.addNumbers(pool, xs.slice(i, i + 1000).map((number) => ({ number, city: '杭州' })));
      await Promise.all(
        xs.map((x, i) =>
          store.bind({
            poolKey: pool,
            mode: kind === 'extension' ? 'AXE' : 'AXN',
            x,
            a: `138${String(base + i).slice(-8)}`,
            ...(kind === 'extension' ? { extension: '1001' } : {}),
            expiresAt,
            recording: false,
            callDisplayType: 1,
          }),
        ),
      );
      xs.forEach((x, i) => rows[kind].push(`${x};139${String(base + i).slice(-8)};`));
    }

    const config = loadConfig({
      DRACHTIO_PORT: String(drachtio.adminPort),
      DRACHTIO_SECRET: drachtio.secret,
      FREESWITCH_PORT: String(fs.eslPort),
      FREESWITCH_SECRET: fs.password,
      SIP_OUTBOUND_URI: `sip:127.0.0.1:${farEnd}`,
      SIP_TRUNK_CIDRS: '127.0.0.0/8',
      SIP_RING_TIMEOUT: '20',
      RECORDING_DIR: join(work, 'recordings'),
      RING_TONE_DIR: join(work, 'tones'),
      ...(process.env.BENCH_MEDIA_ANCHOR ? { MEDIA_ANCHOR: process.env.BENCH_MEDIA_ANCHOR } : {}),
    });
    // Production logging (info, masked numbers), written to /dev/null.
    const log = pino(
      {
        level: 'info',
        base: { service: 'xline' },
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: [...NUMBER_FIELDS, ...NUMBER_FIELDS.map((f) => `*.${f}`)], censor: (v) => (typeof v === 'string' ? maskNumber(v) : v) },
      },
      // BENCH_MEDIA_LOG=<file> keeps the log (diagnosing a failed step).
      pino.destination({ dest: process.env.BENCH_MEDIA_LOG ?? '/dev/null', sync: false }),
    );
    const metrics = new Registry();
    const pipeline = createEventPipeline({ redis, config, log, metrics });
    const sink = new CountingSink(pipeline.sink);
    const ctx: AppContext = { config, log, store, events: sink, metrics, health: { sip: false, media: false } };
    let media: MediaService | undefined;
    const app = await startSipApp({ ...ctx, media: (srf) => (media = startMedia(ctx, srf)) });
    stops.push(() => app.stop(2000), () => media?.stop());
    for (let i = 0; !(ctx.health.sip && ctx.health.media); i++) {
      if (i > 400) throw new Error('xline did not connect to drachtio-server and FreeSWITCH');
      await sleep(25);
    }

    // Caller scenarios: X and caller from the CSV; the extension caller keys 1001 (RFC 2833)
    // 0.3 s after the answer, during the prompt.
    const pcap = writeDtmfPcap(join(work, 'dtmf-1001.pcap'), { digits: '1001', leadMs: 300, tailMs: 100 });
    const csvFields = (path: string) => {
      writeFileSync(path, readFileSync(path, 'latin1').replaceAll('[service]', '[field0]').replaceAll('[caller]', '[field1]'));
      return path;
    };
    // Unrecorded extension calls get the media handed over by re-INVITE once B answers
    // (MEDIA_ANCHOR=recording, the default); BENCH_MEDIA_ANCHOR=always keeps FreeSWITCH in the path.
    const handOff = config.MEDIA_ANCHOR === 'recording';
    const uac: Record<Kind, string> = {
      extension: csvFields(callerScenario(work, 'uac-extension', { pcap, hangUpAfterMs: HOLD_MS, reinvite: handOff })),
      plain: csvFields(callerScenario(work, 'uac-plain', { hangUpAfterMs: HOLD_MS })),
    };
    const uas: Record<Kind, string> = {
      extension: farEndScenario(work, 'uas-extension', { ringMs: 100, reinvite: handOff }),
      plain: farEndScenario(work, 'uas-plain', { ringMs: 100 }),
    };
    console.log(
      `FreeSWITCH pid ${fs.pid()}; ${NUMBERS} AXN-extension and ${NUMBERS} plain AXN bindings; MEDIA_ANCHOR=${config.MEDIA_ANCHOR}; steps of ${STEP_SECONDS} s, calls held ${HOLD_MS / 1000} s after the answer; ` +
        `rates ${RATES.join(', ')} calls/s (peak concurrency ≈ rate × ${((HOLD_MS + 2000) / 1000).toFixed(0)} s)`,
    );

    const results: Step[] = [];
    let offset = 0;
    const dead = new Set<Kind>();
    for (const rate of RATES) {
      for (const kind of (['plain', 'extension'] as Kind[]).filter((k) => KINDS.includes(k))) {
        if (dead.has(kind)) continue;
        let step: Step | undefined;
        for (let trial = 1; trial <= TRIALS && !step?.ok; trial++) {
          const calls = rate * STEP_SECONDS;
          const csv = join(work, `calls-${kind}-${rate}-${trial}.csv`);
          writeFileSync(csv, `SEQUENTIAL\n${Array.from({ length: calls }, (_, i) => rows[kind][(offset + i) % NUMBERS]).join('\n')}\n`);
          offset += calls;
          step = await loadStep({ kind, rate, calls, csv, trial, uac: uac[kind], uas: uas[kind], farEnd, drachtio, fsPid: fs.pid(), sink, app, media: media! });
          console.log(fmt(step));
        }
        results.push(step!);
        if (!step!.ok) dead.add(kind);
      }
      if (dead.has('extension')) break;
    }
    summarize(results);
  } finally {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
    await drachtio.stop();
    await fs.stop();
    redis.disconnect();
    await redisChild.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function loadStep(o: {
  kind: Kind;
  rate: number;
  calls: number;
  csv: string;
  trial: number;
  uac: string;
  uas: string;
  farEnd: number;
  drachtio: { sipPort: number; pid(): number | undefined };
  fsPid: number | undefined;
  sink: CountingSink;
  app: { liveCalls(): number };
  media: MediaService;
}): Promise<Step> {
  const far = await startSipp({
    scenario: o.uas,
    port: o.farEnd,
    calls: 100_000_000,
    timeoutSec: 3600,
    traceMessages: false,
    extraArgs: ['-buff_size', '4194304', '-max_socket', '10000'],
  });
  const bridged0 = o.sink.bridged;
  const ended0 = o.sink.ended;
  const f0 = procCpuSeconds(o.fsPid);
  const d0 = procCpuSeconds(o.drachtio.pid());
  const n0 = process.cpuUsage();
  const t0 = Date.now();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, o.app.liveCalls())), 200);
  const caller = await startSipp({
    scenario: o.uac,
    remote: `127.0.0.1:${o.drachtio.sipPort}`,
    rate: o.rate,
    calls: o.calls,
    limit: o.rate * (HOLD_MS / 1000 + 10),
    timeoutSec: STEP_SECONDS + HOLD_MS / 1000 + 60,
    traceMessages: false,
    extraArgs: ['-inf', o.csv, '-trace_stat', '-fd', '1', '-buff_size', '4194304', '-max_socket', '10000'],
  });
  const r = await caller.done;
  // Every call's teardown (CDR) done, nothing left in FreeSWITCH.
  const deadline = Date.now() + 30_000;
  while ((o.app.liveCalls() > 0 || o.media.liveEndpoints() > 0) && Date.now() < deadline) await sleep(100);
  clearInterval(sampler);
  const seconds = (Date.now() - t0) / 1000;
  const f1 = procCpuSeconds(o.fsPid);
  const d1 = procCpuSeconds(o.drachtio.pid());
  const n1 = process.cpuUsage(n0);
  cleanupSipp(await far.stop());
  const stats = lastStats(r.dir);
  cleanupSipp(r);
  const answered = stats?.successful ?? 0;
  const failed = stats ? stats.failed : o.calls;
  const bridged = o.sink.bridged - bridged0;
  const leaked = o.app.liveCalls() + o.media.liveEndpoints();
  const ok = r.code === 0 && failed === 0 && answered === o.calls && bridged === o.calls && leaked === 0;
  const notes = [
    r.code !== 0 ? `sipp exit ${r.code}` : '',
    bridged !== o.calls ? `${o.calls - bridged} not bridged` : '',
    o.sink.ended - ended0 !== o.calls ? `${o.sink.ended - ended0} CDRs` : '',
    leaked ? `LEAK: ${o.app.liveCalls()} calls, ${o.media.liveEndpoints()} endpoints` : '',
  ].filter(Boolean);
  return {
    kind: o.kind,
    rate: o.rate,
    calls: o.calls,
    ok,
    answered,
    bridged,
    failed,
    peak,
    seconds,
    fsCpu: f1 - f0,
    nodeCpu: (n1.user + n1.system) / 1e6,
    drachtioCpu: d1 - d0,
    trial: o.trial,
    ...(notes.length ? { note: notes.join(', ') } : {}),
  };
}

function fmt(s: Step): string {
  const pct = (cpu: number) => `${((cpu / s.seconds) * 100).toFixed(0).padStart(3)}%`;
  const per = (cpu: number) => `${((cpu / s.calls) * 1000).toFixed(1)} ms`;
  return (
    `  ${String(s.rate).padStart(3)} calls/s  ${s.kind.padEnd(9)} #${s.trial} ${s.ok ? 'clean ' : 'FAILED'} ` +
    `${String(s.bridged).padStart(5)}/${s.calls} bridged ${String(s.failed).padStart(3)} failed  peak ${String(s.peak).padStart(4)} concurrent  ` +
    `CPU (of one core, per call): FreeSWITCH ${pct(s.fsCpu)} ${per(s.fsCpu)}, xline ${pct(s.nodeCpu)} ${per(s.nodeCpu)}, drachtio ${pct(s.drachtioCpu)} ${per(s.drachtioCpu)}` +
    (s.note ? `  (${s.note})` : '')
  );
}

function summarize(results: Step[]): void {
  const best = results.filter((s) => s.kind === 'extension' && s.ok).at(-1);
  const base = best && results.find((s) => s.kind === 'plain' && s.rate === best.rate && s.ok);
  console.log('\n  AXN-extension calls (prompt + RFC 2833 digits + lookup + B leg + ringback + media hand-off / bridge):');
  if (!best) {
    console.log('    no clean step');
    return;
  }
  console.log(`    highest clean rate: ${best.rate} calls/s, peak ${best.peak} concurrent calls, 0 failed of ${best.calls}`);
  console.log(
    `    CPU at that rate: FreeSWITCH ${((best.fsCpu / best.seconds) * 100).toFixed(0)}% of a core, ` +
      `xline ${((best.nodeCpu / best.seconds) * 100).toFixed(0)}%, drachtio-server ${((best.drachtioCpu / best.seconds) * 100).toFixed(0)}%`,
  );
  if (base) {
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    console.log(
      `    vs plain AXN bridges at the same rate and hold (no media): xline CPU per call ×${ratio(best.nodeCpu, base.nodeCpu)}, ` +
        `drachtio CPU per call ×${ratio(best.drachtioCpu, base.drachtioCpu)}, peak concurrency ×${ratio(best.peak, base.peak)}`,
    );
  }
  const target = best.rate >= 20 && best.peak >= 200;
  console.log(`    target (≥200 concurrent, ≥20 calls/s, 0 failures on 2 cores): ${target ? 'met' : 'NOT met'}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
