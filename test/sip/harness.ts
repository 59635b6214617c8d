// A SIP stack for tests: real redis-server + the real binding store and event pipeline, a real
// drachtio-server on free loopback ports, xline's SIP app connected to it, and sipp as caller
// and far end. Every call's CDR and events are recorded (and written to Redis by the pipeline).
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { CallEvent, CallEventSink, CallRecord } from '../../src/events/types.js';
import { createEventPipeline, type EventPipeline } from '../../src/events/pipeline.js';
import { createLogger } from '../../src/log.js';
import { startSipApp, type SipApp } from '../../src/sip/app.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import type { Redis } from 'ioredis';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { startRedisServer } from '../../src/store/embedded-redis.js';
import { drachtioBin, freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { hasRedis } from '../support/redis.js';
import { cleanupSipp, sippBin, startSipp, type SipMsg, type SippOptions, type SippResult, uriUser } from '../support/sipp.js';

export const canRun = Boolean(drachtioBin && sippBin && hasRedis);

/** Records what the SIP app reports, and forwards it to the real pipeline (Redis). */
export class TeeSink implements CallEventSink {
  readonly events: CallEvent[] = [];
  readonly cdrs: CallRecord[] = [];
  readonly errors: unknown[] = [];
  constructor(private readonly next?: CallEventSink) {}
  async event(e: CallEvent) {
    this.events.push(e);
    await this.next?.event(e).catch((err: unknown) => void this.errors.push(err));
  }
  async cdr(r: CallRecord) {
    this.cdrs.push(r);
    await this.next?.cdr(r).catch((err: unknown) => void this.errors.push(err));
  }
}

export interface RedisSide {
  child: RedisChild;
  redis: Redis;
  store: RedisBindingStore;
  pipeline: EventPipeline;
  /** Stops redis-server; restart() brings it back on the same port (empty). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisSide(): Promise<RedisSide> {
  let child = await startRedisServer();
  const redis = connectRedis({ url: child.url }) as Redis;
  redis.on('error', () => {});
  await waitReady(redis);
  const store = new RedisBindingStore(redis, { poolCacheMs: 0 });
  const config = loadConfig({});
  const pipeline = createEventPipeline({ redis, config, log: createLogger('silent'), metrics: new Registry() });
  return {
    get child() {
      return child;
    },
    redis,
    store,
    pipeline,
    async stop() {
      await child.stop();
    },
    async restart() {
      child = await startRedisServer({ port: child.port });
      await waitReady(redis, 5000);
    },
    async close() {
      redis.disconnect();
      await child.stop();
    },
  } as RedisSide;
}

export interface Stack {
  drachtio: DrachtioServer;
  app: SipApp;
  ctx: AppContext;
  sink: TeeSink;
  config: Config;
  /** Port where the far end (sipp UAS) must listen: SIP_OUTBOUND_URI. */
  farEndPort: number;
  transport: 'udp' | 'tcp';
  stop(): Promise<void>;
}

export async function startStack(
  side: RedisSide,
  opts: { transport?: 'udp' | 'tcp'; env?: Record<string, string>; override?: Partial<Config> } = {},
): Promise<Stack> {
  const transport = opts.transport ?? 'udp';
  const drachtio = await startDrachtio(process.env.DRACHTIO_LOG_FILE ? { logFile: process.env.DRACHTIO_LOG_FILE } : {});
  const farEndPort = await freeUdpTcpPort();
  const config: Config = {
    ...loadConfig({
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: String(drachtio.adminPort),
      DRACHTIO_SECRET: drachtio.secret,
      SIP_TRUNK_CIDRS: '127.0.0.1/32',
      SIP_OUTBOUND_URI: `sip:127.0.0.1:${farEndPort}${transport === 'tcp' ? ';transport=tcp' : ''}`,
      SIP_RING_TIMEOUT: '2',
      LOG_LEVEL: 'silent',
      ...opts.env,
    }),
    ...opts.override,
  };
  const sink = new TeeSink(side.pipeline.sink);
  const ctx: AppContext = {
    config,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    store: side.store,
    events: sink,
    metrics: new Registry(),
    health: { sip: false, media: false },
  };
  const app = await startSipApp(ctx);
  await waitFor(() => ctx.health.sip, 10_000, 'xline connected to drachtio-server');
  return {
    drachtio,
    app,
    ctx,
    sink,
    config,
    farEndPort,
    transport,
    async stop() {
      await app.stop(1000);
      await drachtio.stop();
    },
  };
}

export interface CallRun {
  a: SippResult;
  b: SippResult;
  /** Caller leg's Call-ID (the CDR's call_id). */
  callId: string;
  ms: number;
}

/**
 * One call: far end `uas` on SIP_OUTBOUND_URI's port (it may receive nothing), caller `uac`
 * from `localIp` to drachtio. Resolves when the caller's sipp has finished.
 */
export async function placeCall(
  s: Stack,
  o: {
    uac: string;
    uas?: string;
    x: string;
    caller: string;
    target?: string;
    localIp?: string;
    extraHeader?: string;
    holdMs?: number;
    ringMs?: number;
    uacOptions?: Partial<SippOptions>;
    /** No far end at all (another call holds SIP_OUTBOUND_URI's port). */
    noFarEnd?: boolean;
    /** How long the far end may take to finish after the caller did (default 8 s). */
    farEndGraceMs?: number;
  },
): Promise<CallRun> {
  const b = o.noFarEnd
    ? undefined
    : await startSipp({
    // No far-end scenario given: B must not be called; a UAS still listens to prove it.
    scenario: o.uas ?? 'uas-answer.xml',
    transport: s.transport,
    port: s.farEndPort,
    service: o.target ?? 'nobody',
    durationMs: o.ringMs ?? 100,
    timeoutSec: 15,
  });
  const t0 = Date.now();
  const aProc = await startSipp({
    scenario: o.uac,
    transport: s.transport,
    remote: `127.0.0.1:${s.drachtio.sipPort}`,
    localIp: o.localIp ?? '127.0.0.1',
    service: o.x,
    caller: o.caller,
    durationMs: o.holdMs ?? 200,
    timeoutSec: 12,
    ...(o.extraHeader ? { extraHeader: o.extraHeader } : {}),
    ...o.uacOptions,
  });
  const a = await aProc.done;
  const ms = Date.now() - t0;
  // A far end that should have been called gets time to finish its dialog; one that should not
  // is told to quit at once (the test then checks it received nothing).
  const bRes = !b
    ? { code: null, output: '', messages: [], errors: '', dir: '' }
    : o.uas
      ? await Promise.race([b.done, sleep(o.farEndGraceMs ?? 8000).then(() => b.stop())])
      : await b.stop();
  const invite = a.messages.find((m) => m.direction === 'sent' && m.method === 'INVITE');
  return { a, b: bRes, callId: invite?.header('call-id') ?? '', ms };
}

export function cleanup(run: CallRun): void {
  cleanupSipp(run.a);
  if (run.b.dir) cleanupSipp(run.b);
}

/** The first message of a kind: received INVITE at the far end, final response at the caller… */
export function first(r: SippResult, pred: (m: SipMsg) => boolean): SipMsg | undefined {
  return r.messages.find(pred);
}

export const receivedInvite = (r: SippResult) => first(r, (m) => m.direction === 'received' && m.method === 'INVITE');
export const finalAtCaller = (r: SippResult) =>
  first(r, (m) => m.direction === 'received' && m.status !== undefined && m.status >= 200 && /INVITE/.test(m.header('cseq') ?? ''));

/** Asserts what the far end got: R-URI user = target, From = <sip:X@…> alone, nothing of A. */
export function expectCleanBLeg(b: SippResult, target: string, x: string, callerDigits: string): SipMsg {
  const inv = receivedInvite(b);
  expect(inv, `far end received no INVITE; its log:\n${b.output.slice(-1500)}`).toBeDefined();
  const m = inv!;
  expect(uriUser(m.uri)).toBe(target);
  const from = m.header('from')!;
  expect(uriUser(from)).toBe(x);
  expect(from.trimStart().startsWith('<'), `From has a display name: ${from}`).toBe(true);
  expect(uriUser(m.header('to'))).toBe(target);
  for (const h of ['remote-party-id', 'privacy', 'x-caller-secret', 'subject']) {
    expect(m.header(h), `header ${h} leaked to the far end`).toBeUndefined();
  }
  expect(m.header('user-agent') ?? '').not.toContain('xline-test-uac');
  const pai = m.headerAll('p-asserted-identity');
  for (const v of pai) expect(uriUser(v)).toBe(x);
  // The caller's number appears nowhere in what B received (headers and SDP).
  expect(m.raw.includes(callerDigits), `caller number leaked:\n${m.raw}`).toBe(false);
  expect(m.raw).not.toContain('Alice');
  return m;
}

export function reasonCause(m: SipMsg | undefined): number | undefined {
  const r = m?.header('reason');
  const c = r ? /cause=(\d+)/.exec(r) : null;
  return c ? Number(c[1]) : undefined;
}

export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function cdrOf(s: Stack, callId: string, ms = 5000): Promise<CallRecord> {
  await waitFor(() => s.sink.cdrs.some((c) => c.call_id === callId), ms, `CDR of ${callId}`);
  const all = s.sink.cdrs.filter((c) => c.call_id === callId);
  expect(all, 'exactly one CDR per call').toHaveLength(1);
  return all[0]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let seq = 0;
/** Distinct valid CN mobile numbers per test (home country form). */
export function mobile(prefix: '133' | '138' | '139' | '150' | '186' | '177'): string {
  seq++;
  return `${prefix}${String(Date.now() % 10000).padStart(4, '0')}${String(seq).padStart(4, '0')}`;
}

/** Parses 'YYYY-MM-DD HH:mm:ss' as wall-clock seconds (only differences are compared). */
export function reportSeconds(t: string | undefined): number {
  if (!t) return NaN;
  return Date.parse(t.replace(' ', 'T') + 'Z') / 1000;
}
