// The whole media path for tests: real redis-server + store + event pipeline (events and CDRs
// read back from Redis), real drachtio-server, real FreeSWITCH with the repo's conf and prompts,
// xline's SIP app with the media handler, sipp as caller and far end. Helpers to bind AXN-extension numbers and to place
// calls with scripted DTMF, and to read what the caller and far end really got.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { Binding } from '../../src/domain/binding.js';
import type { Logger } from '../../src/log.js';
import { startMedia, type MediaService } from '../../src/media/media-service.js';
import { startSipApp, type SipApp } from '../../src/sip/app.js';
import type { BindRequest } from '../../src/store/types.js';
import { drachtioBin, freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { channelCount, freeswitchBin, startFreeSwitch, type FreeSwitch } from '../support/freeswitch.js';
import { hasRedis } from '../support/redis.js';
import { sipAppConfig, sipAppContext } from '../support/sip-app.js';
import { parseMessageLog, sippBin, startSipp, type SipMsg, type SippResult } from '../support/sipp.js';
import { audioAddress } from '../../src/media/sdp.js';
import type { RtpPeer } from './rtp-peer.js';
import { bindInPool } from '../support/bind-in-pool.js';
import { CheckedSink, waitFor, type RedisSide } from '../sip/harness.js';
import { callerScenario, farEndScenario, type CallerScript, type FarEndScript } from '../support/sipp-scenarios.js';

export const canRunMedia = Boolean(freeswitchBin && drachtioBin && sippBin && hasRedis);

export interface MediaStack {
  fs: FreeSwitch;
  drachtio: DrachtioServer;
  app: SipApp;
  media: MediaService;
  ctx: AppContext;
  side: RedisSide;
  /** The SIP app's events and CDRs go through it to the real pipeline (read them with cdrOf, eventsOf). */
  sink: CheckedSink;
  config: Config;
  farEndPort: number;
  /** Temp dir: recordings/, tones/, scenarios/, pcaps. */
  dir: string;
  /** Everything is idle: no live call, no endpoint, no FreeSWITCH channel. */
  expectIdle(ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startMediaStack(
  side: RedisSide,
  env: Record<string, string> = {},
  /** `log`: xline's logger (a test that asserts on log lines passes one writing to memory). */
  opts: { log?: Logger } = {},
): Promise<MediaStack> {
  const dir = mkdtempSync(join(tmpdir(), 'xline-media-'));
  const fs = await startFreeSwitch();
  const drachtio = await startDrachtio();
  const farEndPort = await freeUdpTcpPort();
  const config: Config = sipAppConfig(drachtio, farEndPort, {
    FREESWITCH_HOST: '127.0.0.1',
    FREESWITCH_PORT: String(fs.eslPort),
    FREESWITCH_SECRET: fs.password,
    SIP_RING_TIMEOUT: '10',
    RECORDING_DIR: join(dir, 'recordings'),
    RING_TONE_DIR: join(dir, 'tones'),
    RECORDING_URL_SECRET: 'media-test-secret-0123456789',
    ...env,
  });
  const sink = new CheckedSink(side.pipeline.sink);
  const ctx = sipAppContext(config, side.store, sink, opts.log);
  let media: MediaService | undefined;
  const app = await startSipApp({ ...ctx, media: (srf) => (media = startMedia(ctx, srf)) });
  await waitFor(() => ctx.health.sip, 10_000, 'xline connected to drachtio-server');
  await waitFor(() => ctx.health.media, 10_000, 'xline connected to FreeSWITCH');
  return {
    fs,
    drachtio,
    app,
    media: media!,
    ctx,
    side,
    sink,
    config,
    farEndPort,
    dir,
    async expectIdle(ms = 8000) {
      const deadline = Date.now() + ms;
      let fsChannels = NaN;
      for (;;) {
        fsChannels = ctx.health.media ? await channelCount(fs).catch(() => NaN) : 0;
        if (app.liveCalls() === 0 && media!.liveEndpoints() === 0 && fsChannels === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`not idle: liveCalls=${app.liveCalls()} endpoints=${media!.liveEndpoints()} freeswitchChannels=${fsChannels}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await app.stop(1000);
      await media?.stop();
      await drachtio.stop();
      await fs.stop();
      rmSync(dir, { recursive: true, force: true });
      sink.check();
    },
  };
}

/** A pool with X numbers and an AXN-extension binding per call of `bind`. */
export async function bindExtension(
  side: RedisSide,
  o: { poolKey: string; x: string; a: string; extension: string; b?: string; recording?: boolean; ringConfig?: BindRequest['ringConfig'] },
): Promise<Binding> {
  return bindInPool(side.store, o.poolKey, { mode: 'AXE', a: o.a, x: o.x, extension: o.extension, b: o.b, recording: o.recording, ringConfig: o.ringConfig });
}

export interface MediaCallRun {
  a: SippResult;
  b?: SippResult;
  /** sipp -trace_msg logs of caller and far end (timedMessages reads them). */
  aLog: string;
  bLog?: string;
  callId: string;
  /** When the caller's sipp started and ended (ms since epoch). */
  startedAt: number;
  endedAt: number;
}

let scenarioSeq = 0;

/** One call: far end (if any) on SIP_OUTBOUND_URI's port, caller from 127.0.0.1 to drachtio. */
/** The caller's sipp ended 0: every expectation of its scenario was met. */
export function expectCallerOk(run: { a: SippResult }): void {
  expect(run.a.code, run.a.errors.slice(-1500) + run.a.output.slice(-800)).toBe(0);
}

export async function placeMediaCall(
  s: MediaStack,
  o: {
    caller: string;
    x: string;
    target?: string;
    script: CallerScript;
    farEnd?: FarEndScript;
    /** false: the far end listens only to prove it is never called; it is stopped with the caller. */
    farEndCalled?: boolean;
    timeoutSec?: number;
    /** RTP sockets of the caller / far end: they follow the SDP each party receives. */
    callerRtp?: RtpPeer;
    farRtp?: RtpPeer;
  },
): Promise<MediaCallRun> {
  const n = ++scenarioSeq;
  const aLog = join(s.dir, `uac-${n}.messages.log`);
  const bLog = join(s.dir, `uas-${n}.messages.log`);
  const trace = (file: string) => ({ traceMessages: false, extraArgs: ['-trace_msg', '-message_file', file] });
  const b = o.farEnd
    ? await startSipp({
        scenario: farEndScenario(s.dir, `uas-${n}`, o.farEnd),
        port: s.farEndPort,
        service: o.target ?? 'far-end',
        timeoutSec: o.timeoutSec ?? 40,
        ...trace(bLog),
      })
    : undefined;
  const followers = [
    ...(o.callerRtp ? [followSdp(aLog, o.callerRtp)] : []),
    ...(o.farRtp ? [followSdp(bLog, o.farRtp)] : []),
  ];
  const startedAt = Date.now();
  const aRaw = await (
    await startSipp({
      scenario: callerScenario(s.dir, `uac-${n}`, o.script),
      remote: `127.0.0.1:${s.drachtio.sipPort}`,
      service: o.x,
      caller: o.caller,
      timeoutSec: o.timeoutSec ?? 40,
      ...trace(aLog),
    })
  ).done;
  const endedAt = Date.now();
  const grace = o.farEndCalled === false ? 300 : 8000;
  const bRaw = b ? await Promise.race([b.done, new Promise<SippResult>((r) => setTimeout(() => void b.stop().then(r), grace))]) : undefined;
  for (const stop of followers) stop();
  const a = withMessages(aRaw, aLog);
  const bRes = bRaw ? withMessages(bRaw, bLog) : undefined;
  const invite = a.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE');
  return { a, aLog, ...(bRes ? { b: bRes, bLog } : {}), callId: invite?.header('call-id') ?? '', startedAt, endedAt };
}

function withMessages(r: SippResult, file: string): SippResult {
  return { ...r, messages: existsSync(file) ? parseMessageLog(readFileSync(file, 'latin1')) : [] };
}

/** Points an RTP peer at the media address of the latest SDP its party received (as a phone does). */
function followSdp(file: string, peer: RtpPeer): () => void {
  let seen = 0;
  const t = setInterval(() => {
    if (!existsSync(file)) return;
    const msgs = parseMessageLog(readFileSync(file, 'latin1')).filter((m) => m.direction === 'received' && /m=audio/.test(m.body));
    if (msgs.length === seen) return;
    seen = msgs.length;
    const addr = audioAddress(msgs.at(-1)!.body);
    if (!addr) return;
    const i = addr.lastIndexOf(':');
    peer.setRemote(addr.slice(0, i), Number(addr.slice(i + 1)));
  }, 20);
  return () => clearInterval(t);
}

export const received = (r: SippResult | undefined, pred: (m: SipMsg) => boolean) => r?.messages.find((m) => m.direction === 'received' && pred(m));

/** A sipp -trace_msg log (MediaCallRun.aLog / bLog) with each message's local time (ms since epoch). */
export function timedMessages(file: string): Array<{ at: number; direction: string; startLine: string }> {
  if (!existsSync(file)) return [];
  const out: Array<{ at: number; direction: string; startLine: string }> = [];
  const re = /^-{20,} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)\n(?:UDP|TCP) message (sent|received)[^\n]*\n\s*\n([^\n]+)/gm;
  const text = readFileSync(file, 'latin1');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ at: new Date(`${m[1]}T${m[2]!.slice(0, 12)}`).getTime(), direction: m[3]!, startLine: m[4]!.trim() });
  }
  return out;
}
