// A SIP stack for tests: real redis-server + the real binding store and event pipeline, a real
// drachtio-server on free loopback ports, xline's SIP app connected to it, and sipp as caller
// and far end. Every call's events and CDR go through the real event pipeline into Redis, and the
// tests read them back from there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { CallEvent, CallEventSink, CallRecord } from '../../src/events/types.js';
import type { Delivery } from '../../src/events/delivery.js';
import { EVENT_KEYS } from '../../src/events/keys.js';
import { createEventPipeline, type EventPipeline } from '../../src/events/pipeline.js';
import { EventSpool } from '../../src/events/spool.js';
import { createLogger } from '../../src/log.js';
import { startSipApp, type SipApp } from '../../src/sip/app.js';
import { connectRedis, waitReady } from '../../src/store/redis-connection.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import type { Redis } from 'ioredis';
import type { RedisChild } from '../../src/store/embedded-redis.js';
import { startRedisServer } from '../../src/store/embedded-redis.js';
import { drachtioBin, freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { hasRedis } from '../support/redis.js';
import { sipAppConfig, sipAppContext } from '../support/sip-app.js';
import { cleanupSipp, sippBin, startSipp, type SipMsg, type SippOptions, type SippResult, uriUser } from '../support/sipp.js';

export const canRun = Boolean(drachtioBin && sippBin && hasRedis);

/**
 * The SIP app's event sink in tests: every event and CDR goes to the real pipeline, which writes
 * it to Redis as in production, and tests read what landed there (eventsOf, cdrOf). Kept here:
 * which calls the app reported (to wait on a call whose Call-ID sipp chose), how many CDRs it
 * handed over per call (exactly one is the contract), and any error the pipeline threw, which
 * fails the test (check()) instead of being swallowed.
 */
export class CheckedSink implements CallEventSink {
  /** Event types in the order the app reported them, by call id: for waiting, never for checks. */
  readonly reported = new Map<string, string[]>();
  /** CDRs handed to the pipeline, by call id. */
  readonly cdrsHanded = new Map<string, number>();
  /** Calls whose CDR write the pipeline has finished (in Redis, or spooled while Redis is away). */
  readonly cdrsSettled = new Set<string>();
  readonly errors: unknown[] = [];
  constructor(private readonly next: CallEventSink) {}
  async event(e: CallEvent, also?: Delivery[]) {
    this.reported.set(e.call_id, [...(this.reported.get(e.call_id) ?? []), e.type]);
    await this.pass(() => this.next.event(e, also));
  }
  async cdr(r: CallRecord, also?: Delivery[]) {
    this.cdrsHanded.set(r.call_id, (this.cdrsHanded.get(r.call_id) ?? 0) + 1);
    await this.pass(() => this.next.cdr(r, also));
    this.cdrsSettled.add(r.call_id);
  }
  /** The calls the app reported an event of type `type` for, in order. */
  callsWith(type: string): string[] {
    return [...this.reported].filter(([, types]) => types.includes(type)).map(([id]) => id);
  }
  /** Throws when the pipeline failed a write so far. */
  check(): void {
    if (this.errors.length) throw new Error(`the event pipeline failed ${this.errors.length} write(s): ${this.errors.map(String).join('; ')}`);
  }
  private async pass(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.errors.push(err);
      throw err;
    }
  }
}

export interface RedisSide {
  child: RedisChild;
  redis: Redis;
  store: RedisBindingStore;
  /**
   * The event pipeline as production builds it with a webhook configured, so events are queued in
   * the delivery stream as well as recorded; its delivery worker is never started, so everything
   * the SIP app reported stays in Redis for the tests to read.
   */
  pipeline: EventPipeline;
  /** Its spool directory (events that could not reach Redis). */
  spoolDir: string;
  /** Replays the spool into Redis now, through the pipeline's store (as its replay timer does). */
  replaySpool(): Promise<{ replayed: number; left: number }>;
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
  const spoolDir = mkdtempSync(join(tmpdir(), 'xline-sip-spool-'));
  // Nothing listens there: the worker that would POST to it is never started.
  const config = loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:9/never-delivered', EVENT_SPOOL_DIR: spoolDir });
  const pipeline = createEventPipeline({ redis, config, log: createLogger('silent'), metrics: new Registry() });
  const spool = new EventSpool(spoolDir);
  return {
    get child() {
      return child;
    },
    redis,
    store,
    pipeline,
    spoolDir,
    replaySpool: () =>
      spool.drain(async (op) => {
        if (op.kind === 'event') await pipeline.store.produceEvent(op.e, op.at);
        else await pipeline.store.produceCdr(op.r, op.at);
      }),
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
      rmSync(spoolDir, { recursive: true, force: true });
    },
  } as RedisSide;
}

export interface Stack {
  drachtio: DrachtioServer;
  app: SipApp;
  ctx: AppContext;
  side: RedisSide;
  sink: CheckedSink;
  config: Config;
  /** Port where the far end (sipp UAS) must listen: SIP_OUTBOUND_URI. */
  farEndPort: number;
  transport: 'udp' | 'tcp';
  /** Transport of B legs (SIP_OUTBOUND_URI's ;transport), = transport unless told. */
  farEndTransport: 'udp' | 'tcp';
  stop(): Promise<void>;
}

export async function startStack(
  side: RedisSide,
  opts: { transport?: 'udp' | 'tcp'; farEndTransport?: 'udp' | 'tcp'; env?: Record<string, string>; override?: Partial<Config> } = {},
): Promise<Stack> {
  const transport = opts.transport ?? 'udp';
  const farEndTransport = opts.farEndTransport ?? transport;
  const drachtio = await startDrachtio(process.env.DRACHTIO_LOG_FILE ? { logFile: process.env.DRACHTIO_LOG_FILE } : {});
  const farEndPort = await freeUdpTcpPort();
  const config: Config = {
    ...sipAppConfig(drachtio, farEndPort, { SIP_RING_TIMEOUT: '2', ...opts.env }, farEndTransport),
    ...opts.override,
  };
  const sink = new CheckedSink(side.pipeline.sink);
  const ctx = sipAppContext(config, side.store, sink);
  const app = await startSipApp(ctx);
  await waitFor(() => ctx.health.sip, 10_000, 'xline connected to drachtio-server');
  return {
    drachtio,
    app,
    ctx,
    side,
    sink,
    config,
    farEndPort,
    transport,
    farEndTransport,
    async stop() {
      await app.stop(1000);
      await drachtio.stop();
      sink.check();
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
  s: Pick<Stack, 'drachtio' | 'farEndPort' | 'transport'> & Partial<Pick<Stack, 'farEndTransport'>>,
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
    transport: s.farEndTransport ?? s.transport,
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

/** Asserts what the far end got: R-URI user = target; From, Contact and P-Asserted-Identity <sip:X@…>; nothing of A. */
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
  // P-Asserted-Identity and Contact name X alone: absent or naming anyone else fails.
  const pai = m.headerAll('p-asserted-identity');
  expect(pai, `B leg without exactly one P-Asserted-Identity:\n${m.raw}`).toHaveLength(1);
  expect(pai[0]!.trim()).toMatch(new RegExp(`^<sips?:${x}@[^>]+>$`));
  const contact = m.headerAll('contact');
  expect(contact, `B leg without exactly one Contact:\n${m.raw}`).toHaveLength(1);
  expect(contact[0]!.trim().startsWith('<'), `Contact has a display name: ${contact[0]}`).toBe(true);
  expect(uriUser(contact[0])).toBe(x);
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

/** A stack's view of what the event pipeline wrote (SIP and media stacks both have one). */
export interface EventSource {
  side: RedisSide;
  sink: CheckedSink;
}

/**
 * The call's CDR as the pipeline stored it in Redis (waiting for it), after checking that the app
 * handed over exactly one and that no pipeline write failed.
 */
export async function cdrOf(s: EventSource, callId: string, ms = 5000): Promise<CallRecord> {
  s.sink.check();
  let cdr: CallRecord | undefined;
  const deadline = Date.now() + ms;
  while (!(cdr = await s.side.pipeline.store.getCdr(callId))) {
    s.sink.check();
    if (Date.now() > deadline) throw new Error(`no CDR of ${callId} in Redis after ${ms} ms (the app handed over ${s.sink.cdrsHanded.get(callId) ?? 0})`);
    await sleep(20);
  }
  expect(s.sink.cdrsHanded.get(callId), 'exactly one CDR per call').toBe(1);
  return cdr;
}

/** The call's events as queued in Redis's delivery stream, in the order they were written. */
export async function eventsOf(s: EventSource, callId: string): Promise<CallEvent[]> {
  s.sink.check();
  const entries = await s.side.redis.xrange(EVENT_KEYS.stream, '-', '+');
  const out: CallEvent[] = [];
  for (const [, fields] of entries) {
    const body = fields[fields.indexOf('body') + 1];
    const msg = body ? (JSON.parse(body) as { event?: CallEvent }) : {};
    if (msg.event?.call_id === callId) out.push(msg.event);
  }
  return out;
}

/** The types of the call's events in Redis, once its CDR is there (the hangup is written first). */
export async function eventTypesOf(s: EventSource, callId: string): Promise<string[]> {
  await cdrOf(s, callId);
  return (await eventsOf(s, callId)).map((e) => e.type);
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
