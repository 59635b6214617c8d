// The SIP application: a drachtio-srf client of drachtio-server that routes INVITEs for X
// numbers. Startup order (jambonz app.js): config → logger → dependencies → INVITE middleware
// → INVITE handler → connection. The connection is retried forever; ctx.health.sip follows it.
import Srf from 'drachtio-srf';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../context.js';
import { decide } from '../domain/route.js';
import { Q850 } from '../domain/route.js';
import { CallSession, type SessionEnv } from './call-session.js';
import { parseOutboundUri } from './b-leg.js';
import { directBridge } from './flows/direct-bridge.js';
import { parseCidrList } from './cidr.js';
import type { MediaHandler } from '../media/media-service.js';
import { ExtensionEntry } from './flows/extension-entry.js';
import { MediaBridge } from './flows/media-bridge.js';
import { sipMetrics } from './metrics.js';
import { guarded, identifyCaller, identifyX, locals, openSession, routeCall, trunkAllowList } from './middleware.js';
import { answerOptions } from './options.js';
import { SessionRegistry } from './session-registry.js';
import { startRtpengine } from '../media-relay/rtpengine.js';
import type { EndCallReason } from '../events/end-call-channel.js';
import { RedisBindingStore } from '../store/redis-store.js';
import { HuaweiModesStore } from '../store/huawei-modes-store.js';
import { ringToneFile } from '../audio-files/ring-tones.js';
import { Announcement } from './flows/announcement.js';
import { huaweiStoreOf } from '../store/huawei-store.js';
import { huaweiReporting } from './huawei-reporting.js';

export type { MediaHandler } from '../media/media-service.js';
export type { MediaCall } from './media-call.js';

export interface SipApp {
  /** Stop taking calls (503), wait up to drainMs for live calls, then end the rest; disconnect. */
  stop(drainMs?: number): Promise<void>;
  /** Calls being routed, ringing or connected right now. */
  liveCalls(): number;
  /**
   * An operator (or the Huawei callStop API, `reason.controlType` 'call-stop') ends a call of this
   * app: release_dir 0, cause 16, the reason's control_type in the CDR; false when it has no such call.
   */
  endCall(callId: string, reason?: EndCallReason): boolean;
}

/** The store fails fast by itself (~1 s); this only bounds a store that hangs. */
const LOOKUP_TIMEOUT_MS = 1500;
/** Longest pause between reconnection attempts to drachtio-server. */
const RECONNECT_MAX_DELAY_MS = 2000;

/** A MediaHandler, or a factory given the app's Srf (drachtio-fsmrf needs that connection). */
export type MediaOption = MediaHandler | ((srf: Srf) => MediaHandler);

/** The startup order in one place (STYLE: config → dependencies → middleware → handler → connection). */
export async function startSipApp(ctx: AppContext & { media?: MediaOption }): Promise<SipApp> {
  const { config } = ctx;
  const log = ctx.log.child({ component: 'sip' });
  const home = config.DEFAULT_COUNTRY as CountryCode;
  const trunks = parseCidrList(config.SIP_TRUNK_CIDRS);
  const trustedPai = parseCidrList(config.SIP_TRUSTED_PAI_CIDRS ?? config.SIP_TRUNK_CIDRS);
  const metrics = sipMetrics(ctx.metrics);
  const registry = new SessionRegistry<CallSession>();
  const srf = new Srf() as Srf & Srf.SrfExtras;
  const media = typeof ctx.media === 'function' ? ctx.media(srf) : ctx.media;
  // main.ts hands one relay to every SIP app; an app started alone (tests) makes its own.
  const ownRelay =
    !ctx.relay && config.RTPENGINE_NG
      ? startRtpengine({ ...config.RTPENGINE_NG, log, metrics: ctx.metrics, onState: (up) => (ctx.health.relay = up) })
      : undefined;
  if (ownRelay) ctx.health.relay = false;
  const relay = ctx.relay ?? ownRelay;
  let draining = false;
  let stopped = false;
  const env = sessionEnv(ctx, { srf, log, metrics, registry, relay });

  srf.use('invite', guarded(trunkAllowList(trunks, metrics, log), log));
  srf.use('invite', guarded(openSession(env, () => draining), log));
  srf.use('invite', guarded(identifyCaller(trustedPai, home), log));
  srf.use('invite', guarded(identifyX(home), log));
  srf.use('invite', guarded(routeCall(env.route), log));
  srf.invite((req) => {
    const { session, decision } = locals(req);
    if (!session || !decision) return;
    dispatch(session, decision, media).catch((err: unknown) => {
      session.log.error({ err }, 'call handling failed');
      void session.end({ dir: 0, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'error' });
    });
  });

  // Trunks' health checks: registering the handler is what makes drachtio-server hand OPTIONS to
  // xline (without it, it answers 503 "No connected clients found").
  srf.options(
    answerOptions({
      trunks,
      draining: () => draining,
      storeUp: () => withTimeout(ctx.store.ping(), LOOKUP_TIMEOUT_MS).catch(() => false),
      log,
    }),
  );

  watchConnection(srf, ctx, log, registry, () => stopped);
  srf.connect({
    host: config.DRACHTIO_HOST,
    port: config.DRACHTIO_PORT,
    secret: config.DRACHTIO_SECRET,
    reconnect: { retryMaxDelay: RECONNECT_MAX_DELAY_MS },
  });

  return {
    liveCalls: () => registry.size,
    endCall: (callId, reason = {}) => endCall(registry, log, callId, reason),
    async stop(drainMs = 30_000) {
      if (stopped) return;
      draining = true;
      log.info({ liveCalls: registry.size, drainMs }, 'draining SIP calls');
      if (!(await registry.waitEmpty(drainMs))) {
        log.warn({ liveCalls: registry.size }, 'drain time over: ending remaining calls');
        await Promise.race([Promise.allSettled(registry.all().map((s) => s.shutdown())), sleep(5000)]);
      }
      stopped = true;
      stopReconnecting(srf);
      try {
        srf.disconnect();
      } catch {
        // not connected at the moment: nothing to close
      }
      ctx.health.sip = false;
      ownRelay?.stop();
      log.info('SIP app stopped');
    },
  };
}

/** What every call's session shares: the connection, the store lookup, events and Huawei reporting. */
function sessionEnv(
  ctx: AppContext,
  parts: Pick<SessionEnv, 'srf' | 'log' | 'metrics' | 'registry' | 'relay'>,
): SessionEnv {
  const { config } = ctx;
  const { log, relay } = parts;
  // Huawei apps, their bindings and AXE callback records live in the Redis binding store (the
  // only one main.ts makes)
  const redisStore = ctx.store instanceof RedisBindingStore ? ctx.store : undefined;
  const callbacks = redisStore ? new HuaweiModesStore(redisStore) : undefined;
  return {
    srf: parts.srf,
    config,
    log,
    events: ctx.events,
    metrics: parts.metrics,
    registry: parts.registry,
    outbound: parseOutboundUri(config.SIP_OUTBOUND_URI),
    ...(relay ? { relay } : {}),
    ...(redisStore ? { huawei: huaweiReporting(config, huaweiStoreOf(redisStore, config.HUAWEI_APP_CACHE_MS)) } : {}),
    async route(caller, x, extension) {
      const found = await withTimeout(ctx.store.lookup(caller, x, extension), LOOKUP_TIMEOUT_MS);
      return decide({ caller, x, ...(extension ? { extension } : {}) }, found);
    },
    ...(callbacks
      ? { rememberCaller: (note) => void callbacks.noteCallback(note).catch((err: unknown) => log.warn({ err: String(err), subsId: note.subsId }, 'AXE callback record not written')) }
      : {}),
  };
}

/** ctx.health.sip follows the drachtio-server connection; its calls are lost with it. */
function watchConnection(srf: Srf & Srf.SrfExtras, ctx: AppContext, log: AppContext['log'], registry: SessionRegistry<CallSession>, stopped: () => boolean): void {
  srf.on('connect', (err: Error | null, hostport: string, version?: string) => {
    if (err) {
      log.error({ err: String(err) }, 'drachtio-server refused the connection (DRACHTIO_SECRET?)');
      return;
    }
    if (stopped()) {
      srf.disconnect();
      return;
    }
    ctx.health.sip = true;
    log.info({ hostport, version }, 'connected to drachtio-server');
  });
  let lastConnError = '';
  srf.on('connect', () => (lastConnError = ''));
  srf.on('error', (err) => {
    // Connection errors are followed by a reconnection attempt (wire-protocol.js) every ~2 s
    // while drachtio-server is away: log a new error once, not every attempt.
    const text = String(err);
    if (!stopped() && text !== lastConnError) log.warn({ err: text }, 'drachtio-server connection error (retrying)');
    lastConnError = text;
  });
  srf.on('close', () => {
    const wasUp = ctx.health.sip;
    ctx.health.sip = false;
    if (stopped()) return;
    if (wasUp) log.warn({ liveCalls: registry.size }, 'lost drachtio-server; its calls are gone, reconnecting');
    for (const s of registry.all()) void s.lost();
  });
  srf.on('reconnecting', (info) => log.debug(info, 'reconnecting to drachtio-server'));
}

async function dispatch(session: CallSession, d: NonNullable<ReturnType<typeof locals>['decision']>, media?: MediaHandler): Promise<void> {
  switch (d.kind) {
    case 'refuse':
      await session.refuse(d.status, d.cause, d.reason, refuseText[d.reason] + (d.binding?.callRestrict ? ` (${d.binding.callRestrict})` : ''), d.binding);
      return;
    case 'collect':
      if (!media?.available()) {
        await session.refuse(503, Q850.TEMPORARY_FAILURE, 'unavailable', 'media server unavailable for extension prompt');
        return;
      }
      await new ExtensionEntry(media.env, session).run(d.extensionDigits);
      return;
    case 'bridge':
      // Media decides whether this bridge needs it (tone, recording) and whether it can serve it.
      if (media && (await media.wantsBridge(d))) await new MediaBridge(media.env, session).bridge(d);
      else await directBridge(session, d);
      return;
    case 'announce': {
      // Huawei AXE callbackTone: played to A, then hang-up; without media or the tone, refused
      const file = media?.available() ? await ringToneFile(media.env.config, d.tone) : undefined;
      if (media && file) {
        if (d.refusal.binding) session.about(d.refusal.binding);
        await new Announcement(media.env, session).run(file, d.refusal);
      } else await dispatch(session, d.refusal, media);
      return;
    }
  }
}

/** An operator or the callStop API ends a call: release_dir 0, cause 16, the reason's control_type. */
function endCall(registry: SessionRegistry<CallSession>, log: AppContext['log'], callId: string, reason: EndCallReason): boolean {
  const s = registry.get(callId);
  if (!s) return false;
  log.info({ callId, ...reason }, 'call ended by an operator');
  const how = reason.controlType ? { controlType: reason.controlType, controlMsg: END_CALL_MESSAGE[reason.controlType] ?? 'ended through the API' } : {};
  void s.end({ dir: 0, cause: Q850.NORMAL_CLEARING, status: 480, ...how });
  return true;
}

/** control_msg of a call ended from outside, by its control_type. */
const END_CALL_MESSAGE: Record<string, string> = {
  'call-stop': 'ended by the Huawei callStop API',
};

const refuseText: Record<string, string> = {
  'no-binding': 'no live binding on X',
  'not-a-party': 'caller is not a party of the binding',
  'call-restricted': 'call restricted',
  'no-default-b': 'binding has no default B',
  'no-callback': 'no callback record, callbackNum or playable callbackTone (Huawei 8019)',
  'self-call': 'caller is the bound number',
};

/** wire-protocol.js schedules reconnection timers it never cancels; stop them on shutdown. */
function stopReconnecting(srf: Srf): void {
  const wp = (srf as unknown as { _app?: { client?: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } } })
    ._app?.client?.wp;
  if (!wp) return;
  wp.closing = true;
  if (wp.reconnectVars?.retryTimer) {
    clearTimeout(wp.reconnectVars.retryTimer);
    wp.reconnectVars.retryTimer = null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
