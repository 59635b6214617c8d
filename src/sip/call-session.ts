// One CallSession per caller INVITE owns everything the call holds: the caller's transaction,
// the B leg (request while ringing, dialogs once answered), timers, media resources handed over
// by the media seam, and the call's events and CDR. `end()` is the one teardown, run once
// whoever triggers it (sbc-inbound call-session.js / jambonz _clearResources, in TypeScript).
import Srf from 'drachtio-srf';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Binding } from '../domain/binding.js';
import { CALL_TYPE } from '../domain/binding.js';
import type { Decision } from '../domain/route.js';
import { Q850 } from '../domain/route.js';
import { unconnectedCause, type CallEvent, type CallEventSink, type CallEventType, type CallRecord } from '../events/types.js';
import type { BridgeDecision, CallEnding, MediaCall, ReleaseDir } from './media-seam.js';
import type { CallOutcome, SipMetrics } from './metrics.js';
import { causeForStatus, parseQ850, reasonHeader } from './q850.js';
import { reportTime } from '../domain/wall-clock.js';
import type { SessionRegistry } from './session-registry.js';
import type { MediaRelay } from '../media-relay/rtpengine.js';
import { CallSdp, type Side } from './call-sdp.js';
import { callerReliability, EarlyDialogs } from './early-dialog.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

export const RELEASE_DIR = { PLATFORM: 0, CALLER: 1, CALLEE: 2 } as const;

/** Where B legs go: `sip:<target>@<hostport><params>` (DESIGN §3 SIP_OUTBOUND_URI). */
export interface OutboundTarget {
  scheme: 'sip' | 'sips';
  hostport: string;
  /** URI parameters including the leading ';' (e.g. ';transport=tcp'), or ''. */
  params: string;
  /** `;transport=…` of the URI, lower case, or '' (UDP, or the scheme's default). */
  transport: string;
}

export function parseOutboundUri(uri: string): OutboundTarget {
  const m = /^(sips?):([^;@\s]+)(;.*)?$/.exec(uri.trim());
  if (!m?.[1] || !m[2]) throw new Error(`SIP_OUTBOUND_URI must be sip:host[:port][;params], got ${uri}`);
  const params = m[3] ?? '';
  const transport = /;transport=([a-z0-9-]+)/i.exec(params)?.[1]?.toLowerCase() ?? '';
  return { scheme: m[1] as 'sip' | 'sips', hostport: m[2], params, transport: transport ? `;transport=${transport}` : '' };
}

export interface SessionEnv {
  srf: Srf & Srf.SrfExtras;
  config: Config;
  log: Logger;
  events: CallEventSink;
  metrics: SipMetrics;
  registry: SessionRegistry<CallSession>;
  outbound: OutboundTarget;
  /** rtpengine (RTPENGINE_NG): anchors every bridged call's media. Unset: SDP is only rewritten. */
  relay?: MediaRelay;
  /** One store lookup + decide(), shared with the INVITE middleware. */
  route(caller: string, x: string, extension?: string): Promise<Decision>;
}

/** Headers that never cross from one leg to the other: identity, routing, transaction state. */
const IN_DIALOG_PASS = ['Content-Type', 'Content-Disposition', 'Event', 'Info-Package', 'Recv-Info'];

export class CallSession implements MediaCall {
  readonly callId: string;
  readonly receivedAt = Date.now();
  caller = '';
  x = '';
  /** R-URI user as received, for the CDR of calls whose X did not parse. */
  rawX = '';
  readonly done: Promise<void>;

  private readonly t0 = performance.now();
  /** Made on first use: only media calls need it, and AbortController is not free per call. */
  private abort?: AbortController;
  private resolveDone!: () => void;
  private ending?: CallEnding;
  private binding?: Binding;
  private callType: number = CALL_TYPE.INTERCEPTED;
  private target?: string;
  private ringAt?: number;
  private answerAt?: number;
  private startEmitted = false;
  private record: { path?: string; url?: string; durationSec?: number } = {};
  private readonly owned: Array<{ destroy(): unknown }> = [];
  private callSdp?: CallSdp;

  // B leg state: the INVITE while it is pending, both dialogs once connected.
  private bLaunched = false;
  private uacReq?: Req;
  private uas?: Dialog;
  private uac?: Dialog;
  private callerCanceled = false;
  /** B's INVITE got a final response, or a CANCEL for it already left: never CANCEL it (again). */
  private bSettled = false;
  private signalling = true;
  private ringTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;

  constructor(
    private readonly env: SessionEnv,
    readonly req: Req,
    readonly res: Res,
  ) {
    this.callId = req.get('Call-ID');
    this.done = new Promise((r) => (this.resolveDone = r));
    env.registry.add(this);
    env.metrics.live.inc();
    req.on('cancel', () => this.onCallerCancel());
  }

  get srf(): Srf {
    return this.env.srf;
  }

  get signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.ending) this.abort.abort();
    }
    return this.abort.signal;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Every SDP passed between the parties goes through this (relay + privacy); made on first use. */
  get sdp(): CallSdp {
    if (!this.callSdp) {
      const c = (this.callSdp = new CallSdp(this.callId, this.env.relay));
      this.own({ destroy: () => c.close() });
    }
    return this.callSdp;
  }

  /** Caller and X as the middleware identified them; later log lines carry them (masked). */
  identify(caller: string, x: string): void {
    this.caller = caller;
    this.x = x;
    this.childLog = undefined;
  }

  private childLog?: Logger;
  /** Per-call child logger, made on first use (most calls log one line, at their end). */
  get log(): Logger {
    return (this.childLog ??= this.env.log.child(
      this.x ? { callId: this.callId, caller: this.caller, x: this.x } : { callId: this.callId },
    ));
  }

  /** Debug lines cost nothing at info level (no child logger is made for them). */
  private debug(fields: Record<string, unknown>, msg: string): void {
    if (this.env.log.isLevelEnabled('debug')) this.log.debug(fields, msg);
  }

  // ---- routing outcomes -------------------------------------------------------------------

  /** Refusal before any B leg: final response with Reason, CDR with call_type 4. */
  refuse(status: number, cause: number, controlType: string, controlMsg: string, binding?: Binding): Promise<void> {
    if (binding) this.binding = binding;
    this.debug({ status, cause, controlType }, 'CallSession:refuse');
    return this.end({
      dir: RELEASE_DIR.PLATFORM,
      cause,
      status,
      outcome: status === 503 ? 'unavailable' : 'refused',
      controlType,
      controlMsg,
    });
  }

  route(extension: string): Promise<Decision> {
    return this.env.route(this.caller, this.x, extension);
  }

  routed(d: BridgeDecision): void {
    this.binding = d.binding;
    this.callType = d.callType;
    this.target = d.target;
    // After the B INVITE has left: the event write is not on the post-dial path. Its `at` is
    // the INVITE's arrival, and any later event of the call comes at least one round trip later.
    setImmediate(() => this.emitStart());
  }

  bLeg(target: string): { uri: string; headers: Record<string, string> } {
    const { scheme, hostport, params, transport } = this.env.outbound;
    // drachtio-server replaces 'localhost' with its own SIP address (keeping the parameters);
    // nothing of A is carried. Every URI naming xline carries the leg's transport, so that B's
    // BYE, re-INVITE and ACK come back on it (a TCP trunk's phones would otherwise use UDP).
    const self = `<${scheme}:${this.x}@localhost${transport}>`;
    return {
      uri: `${scheme}:${target}@${hostport}${params}`,
      headers: {
        From: self,
        To: `<${scheme}:${target}@${hostport}>`,
        Contact: self,
        'P-Asserted-Identity': self,
        // xline acknowledges B's reliable provisional responses itself (drachtio-srf PRACKs
        // them), so a trunk that insists on 100rel can be called whatever A supports.
        Supported: '100rel',
      },
    };
  }

  /** Plain B2BUA bridge (no media server): A ↔ drachtio ↔ B. */
  async bridge(d: BridgeDecision): Promise<void> {
    this.routed(d);
    if (this.ended) return;
    const { uri, headers } = this.bLeg(d.target);
    this.debug({ target: d.target, callType: d.callType, subsId: d.binding.subsId }, 'CallSession:bridge');
    const sdp = this.sdp;
    // Early offer: the relay anchors it before B sees it. Late offer (no SDP in the INVITE): B's
    // 200 carries the offer and the caller's ACK the answer.
    const lateOffer = !this.req.body;
    let offerToB: string | undefined;
    if (!lateOffer) {
      try {
        offerToB = await sdp.offer('a', this.req.body);
      } catch (err) {
        if (this.ended) return;
        this.log.warn({ err: String(err) }, 'CallSession:media relay unavailable');
        await this.refuse(503, Q850.TEMPORARY_FAILURE, 'unavailable', 'media relay unavailable');
        return;
      }
      if (this.ended) return;
    }
    this.bLaunched = true;
    const cfg = this.env.config;
    const early = new EarlyDialogs(this.env.srf, callerReliability(this.req), this.log, {
      offerToB: (offer) => sdp.offer('a', offer),
      answerToCaller: (answer) => sdp.answer('b', answer),
      lastToCaller: () => sdp.current('a'),
    });
    try {
      const { uas, uac } = await this.env.srf.createB2BUA(this.req, this.res, uri, {
        headers,
        // Failures are relayed by us with a Q.850 Reason; provisional responses pass through
        // without any of B's headers (proxyResponseHeaders is empty), reliably when the caller
        // asked for 100rel (early-dialog.ts).
        passFailure: false,
        passProvisionalResponses: true,
        // Everything B says about its media reaches the caller rewritten (18x and 200 alike).
        localSdpA: (sdpB: string) => this.towardsCaller(lateOffer ? sdp.offer('b', sdpB) : sdp.answer('b', sdpB)),
        localSdpB: offerToB ?? ((ackSdp: string) => this.towardsCaller(sdp.answer('a', ackSdp))),
        responseHeaders: ((bRes: Res) => early.responseHeaders(bRes)) as unknown as Srf.CreateB2BUAOptions['responseHeaders'],
      }, {
        cbRequest: ((err: unknown, uacReq: Req) => {
          if (err || !uacReq) return;
          early.attach(this.req, uacReq);
          this.onBInviteSent(uacReq, cfg.SIP_RING_TIMEOUT * 1000);
        }) as unknown as (req: Req) => void,
        cbFinalizedUac: () => this.answered(),
      });
      if (this.ended) {
        // Torn down while B answered (drain, ring timeout race): release both new dialogs.
        await Promise.allSettled([uas.destroy(this.byeHeaders()), uac.destroy(this.byeHeaders())]);
        return;
      }
      this.connected(uas, uac, cfg.SIP_MAX_CALL_SECONDS * 1000);
    } catch (err) {
      if (this.ended) return;
      if (this.callerCanceled) {
        await this.end({ dir: RELEASE_DIR.CALLER, cause: Q850.NORMAL_CLEARING, outcome: 'canceled' });
        return;
      }
      if (err instanceof Srf.SipError && err.status >= 300) {
        const cause = parseQ850(err.res?.get('Reason')) ?? causeForStatus(err.status, this.ringAt !== undefined);
        this.debug({ status: err.status, cause }, 'CallSession:bridge B failed');
        await this.end({ dir: RELEASE_DIR.CALLEE, cause, status: err.status, outcome: 'failed' });
        return;
      }
      this.log.error({ err }, 'CallSession:bridge unexpected error');
      await this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'error' });
    }
  }

  /**
   * A relay failure while B's answer is on its way: the caller gets 503 with cause 41 (and B its
   * CANCEL or BYE) before drachtio-srf, seeing the rejection, tears down its half.
   */
  private async towardsCaller(p: Promise<string>): Promise<string> {
    try {
      return await p;
    } catch (err) {
      if (!this.ended) {
        this.log.warn({ err: String(err) }, 'CallSession:media relay failed on B\'s answer');
        void this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'unavailable' });
      }
      throw err;
    }
  }

  private onBInviteSent(uacReq: Req, ringMs: number): void {
    this.uacReq = uacReq;
    this.env.metrics.routing.observe((performance.now() - this.t0) / 1000);
    if (this.callerCanceled || this.ended) {
      // The caller's CANCEL (or our teardown) came before the B INVITE left: cancel it now.
      this.cancelB();
      return;
    }
    uacReq.on('response', (r: Res) => {
      // 18x with SDP skips the B2BUA's cbProvisional (srf.js), so watch the request itself.
      if (r.status >= 200) this.bSettled = true;
      else if (r.status >= 180) this.ringing();
    });
    this.ringTimer = setTimeout(() => {
      this.ringTimer = undefined;
      if (this.answerAt !== undefined || this.ended) return;
      this.log.info({ ringTimeoutSec: ringMs / 1000 }, 'CallSession:ring timeout');
      void this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.NO_ANSWER, status: 480, outcome: 'no-answer' });
    }, ringMs);
  }

  private connected(uas: Dialog, uac: Dialog, maxMs: number): void {
    this.uas = uas;
    this.uac = uac;
    for (const [dlg, other, dir] of [
      [uas, uac, RELEASE_DIR.CALLER],
      [uac, uas, RELEASE_DIR.CALLEE],
    ] as const) {
      dlg.on('destroy', (bye: Req) => {
        const reason = bye?.get?.('Reason');
        void this.end({ dir, cause: parseQ850(reason) ?? Q850.NORMAL_CLEARING, outcome: 'answered' }, dlg, reason);
      });
      dlg.on('modify', (req, res) => void this.relayReinvite(dlg, other, req, res));
      dlg.on('update', (req, res) => void this.relayRequest('UPDATE', other, req, res));
      dlg.on('info', (req, res) => void this.relayRequest('INFO', other, req, res));
      // Transfers are not offered: a REFER would move the call beyond xline's control.
      dlg.on('refer', (_req, res) => res.send(603));
    }
    this.maxTimer = setTimeout(() => {
      this.maxTimer = undefined;
      this.log.info('CallSession:max call duration reached');
      void this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.NORMAL_CLEARING, outcome: 'answered' });
    }, maxMs);
    this.debug({}, 'CallSession:connected');
  }

  private async relayReinvite(from: Dialog, to: Dialog, req: Req, res: Res): Promise<void> {
    const side: Side = from === this.uas ? 'a' : 'b';
    const otherSide: Side = side === 'a' ? 'b' : 'a';
    try {
      if (!req.body) {
        // Offerless re-INVITE: answer with what this side already has.
        res.send(200, { body: from.local.sdp, headers: { 'Content-Type': 'application/sdp' } });
        return;
      }
      const answer = await to.modify(await this.sdp.offer(side, req.body));
      const sdp = await this.sdp.answer(otherSide, answer);
      from.local.sdp = sdp;
      res.send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } });
    } catch (err) {
      this.log.info({ err: String(err) }, 'CallSession:re-INVITE relay failed');
      res.send(err instanceof Srf.SipError ? err.status : 500);
    }
  }

  private async relayRequest(method: 'UPDATE' | 'INFO', to: Dialog, req: Req, res: Res): Promise<void> {
    const side: Side = to === this.uac ? 'a' : 'b';
    const otherSide: Side = side === 'a' ? 'b' : 'a';
    try {
      const headers: Record<string, string> = {};
      for (const h of IN_DIALOG_PASS) if (req.has(h)) headers[h] = req.get(h);
      // An UPDATE with SDP is an offer (RFC 3311): through the relay and the rewrite both ways.
      const offer = method === 'UPDATE' && req.body && isSdp(req) ? await this.sdp.offer(side, req.body) : req.body;
      const r = await to.request({ method, headers, ...(offer ? { body: offer } : {}) });
      const back: Record<string, string> = {};
      if (r.body && r.has('Content-Type')) back['Content-Type'] = r.get('Content-Type');
      const body = r.body && offer !== req.body && r.status < 300 && isSdp(r) ? await this.sdp.answer(otherSide, r.body) : r.body;
      res.send(r.status, { headers: back, ...(body ? { body } : {}) });
    } catch (err) {
      this.log.info({ err: String(err), method }, 'CallSession:in-dialog relay failed');
      res.send(500);
    }
  }

  // ---- milestones -------------------------------------------------------------------------

  ringing(): void {
    if (this.ringAt !== undefined || this.ended) return;
    this.ringAt = Date.now();
    this.env.metrics.pdd.observe((performance.now() - this.t0) / 1000);
    this.emit('ring', this.ringAt);
  }

  answered(): void {
    if (this.answerAt !== undefined || this.ended) return;
    this.answerAt = Date.now();
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
    this.emit('answer', this.answerAt);
  }

  own(resource: { destroy(): unknown }): void {
    if (this.ended) {
      void Promise.resolve().then(() => resource.destroy()).catch(() => {});
      return;
    }
    this.owned.push(resource);
  }

  recording(info: { path?: string; url?: string; durationSec?: number }): void {
    this.record = { ...this.record, ...info };
    // Alibaba SecretRecording: the recording is ready (file closed) when media reports it.
    if (info.path && !this.ended) {
      this.emit('recording', Date.now(), {
        ...(info.url ? { record_url: info.url } : {}),
        record_path: info.path,
        ...(info.durationSec !== undefined ? { record_duration: info.durationSec } : {}),
      });
    }
  }

  // ---- caller side events -----------------------------------------------------------------

  private onCallerCancel(): void {
    if (this.ended || this.answerAt !== undefined) return;
    this.callerCanceled = true;
    this.log.info('CallSession:caller canceled');
    if (!this.bLaunched) {
      // Still routing: nobody else will answer the INVITE (drachtio may already have sent 487).
      void this.end({ dir: RELEASE_DIR.CALLER, cause: Q850.NORMAL_CLEARING, status: 487, outcome: 'canceled' });
    } else if (!this.uacReq) {
      // B INVITE not sent yet: the B2BUA has no cancel handler; answer A here, cancel B once sent.
      this.res.send(487);
    } else {
      this.bSettled = true;
    }
    // Otherwise the B2BUA sends 487 to A and CANCEL to B; bridge() sees the rejection.
  }

  /** drachtio-server connection lost: its dialogs are gone; end without signalling. */
  lost(): Promise<void> {
    this.signalling = false;
    return this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'error' });
  }

  /** Drain deadline or shutdown: BYE a connected call, CANCEL + 503 a ringing one. */
  shutdown(): Promise<void> {
    return this.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503 });
  }

  // ---- teardown (once) --------------------------------------------------------------------

  end(e: CallEnding, from?: Dialog, relayReason?: string): Promise<void> {
    if (this.ending) return this.done;
    this.ending = e;
    const releaseAt = Date.now();
    if (this.ringTimer) clearTimeout(this.ringTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.ringTimer = this.maxTimer = undefined;
    this.abort?.abort();
    const reason = relayReason ?? reasonHeader(e.cause);

    if (this.signalling) {
      if (!this.res.finalResponseSent && e.status) {
        try {
          this.res.send(e.status, undefined, { headers: { Reason: reasonHeader(e.cause) } });
        } catch (err) {
          this.log.warn({ err: String(err) }, 'CallSession:end final response failed');
        }
      }
      if (!this.uac) this.cancelB();
      for (const dlg of [this.uas, this.uac]) {
        if (!dlg || dlg === from || !dlg.connected) continue;
        dlg.destroy({ headers: { Reason: reason } }).catch((err: unknown) => {
          this.log.info({ err: String(err) }, 'CallSession:end BYE failed');
        });
      }
    }
    for (const r of this.owned.splice(0)) {
      try {
        void Promise.resolve(r.destroy()).catch((err: unknown) => this.log.info({ err: String(err) }, 'CallSession:end free failed'));
      } catch (err) {
        this.log.info({ err: String(err) }, 'CallSession:end free failed');
      }
    }
    this.uas?.removeAllListeners();
    this.uac?.removeAllListeners();
    this.req.removeAllListeners('cancel');

    const outcome: CallOutcome = e.outcome ?? (this.answerAt !== undefined ? 'answered' : 'failed');
    this.env.registry.remove(this);
    this.env.metrics.live.dec();
    this.env.metrics.calls.inc({ outcome });
    // One info line per call, with what a reader needs to follow it (numbers masked). Most calls
    // log nothing else, so no child logger is made for it.
    (this.childLog ?? this.env.log).info(
      {
        ...(this.childLog ? {} : this.x ? { callId: this.callId, caller: this.caller, x: this.x } : { callId: this.callId }),
        outcome,
        releaseDir: e.dir,
        releaseCause: e.cause,
        ...(this.target ? { target: this.target } : {}),
        ...(this.binding ? { subsId: this.binding.subsId } : {}),
        callType: this.callType,
        ...(e.controlType ? { controlType: e.controlType } : {}),
        ...(this.answerAt !== undefined ? { talkMs: releaseAt - this.answerAt } : {}),
      },
      'CallSession:end',
    );

    return this.writeRecords(e, releaseAt).finally(() => this.resolveDone());
  }

  private cancelB(): void {
    const r = this.uacReq;
    if (!r || this.bSettled || this.answerAt !== undefined) return;
    this.bSettled = true;
    try {
      r.cancel({ headers: { Reason: reasonHeader(this.ending?.cause ?? Q850.NORMAL_CLEARING) } });
    } catch (err) {
      this.log.info({ err: String(err) }, 'CallSession:CANCEL to B failed');
    }
  }

  private byeHeaders() {
    return { headers: { Reason: reasonHeader(this.ending?.cause ?? Q850.NORMAL_CLEARING) } };
  }

  // ---- events and CDR ---------------------------------------------------------------------

  private emitStart(): void {
    if (this.startEmitted) return;
    this.startEmitted = true;
    this.emit('start', this.receivedAt);
  }

  private emit(type: CallEventType, at: number, data?: Record<string, unknown>): void {
    const b = this.binding;
    const e: CallEvent = {
      type,
      call_id: this.callId,
      secret_no: this.x || this.rawX,
      at,
      ...(b ? { sub_id: b.subsId, pool_key: b.poolKey } : {}),
      ...this.parties(),
      call_type: this.callType,
      ...(b?.outId ? { out_id: b.outId } : {}),
      ...(b?.outOrderId ? { out_order_id: b.outOrderId } : {}),
      ...(data ? { data } : {}),
    };
    this.env.events.event(e).catch((err: unknown) => this.log.warn({ err: String(err), type }, 'CallSession:event not recorded'));
  }

  /** Alibaba phone_no / peer_no: the binding's A side and the other party. */
  private parties(): { phone_no: string; peer_no: string } {
    const b = this.binding;
    if (this.callType === CALL_TYPE.CALLER) return { phone_no: this.caller, peer_no: this.target ?? '' };
    if (this.callType === CALL_TYPE.CALLEE) return { phone_no: this.target ?? '', peer_no: this.caller };
    // Intercepted: the caller, and whom it tried to reach when a binding is known.
    return { phone_no: this.caller, peer_no: b ? (this.caller === b.a ? (b.b ?? '') : b.a) : '' };
  }

  private async writeRecords(e: CallEnding, releaseAt: number): Promise<void> {
    this.emitStart();
    this.emit('hangup', releaseAt, { release_dir: e.dir, release_cause: e.cause });
    const tz = this.env.config.TIMEZONE;
    const b = this.binding;
    const cdr: CallRecord = {
      pool_key: b?.poolKey ?? '',
      sub_id: b?.subsId ?? '',
      call_id: this.callId,
      ...this.parties(),
      secret_no: this.x || this.rawX,
      called_display_no: this.x || this.rawX,
      call_type: this.callType,
      call_time: reportTime(this.receivedAt, tz),
      ...(this.ringAt !== undefined ? { ring_time: reportTime(this.ringAt, tz), free_ring_time: reportTime(this.ringAt, tz) } : {}),
      ...(this.answerAt !== undefined ? { start_time: reportTime(this.answerAt, tz) } : {}),
      release_time: reportTime(releaseAt, tz),
      release_dir: e.dir as ReleaseDir,
      release_cause: e.cause,
      unconnected_cause: unconnectedCause(this.answerAt !== undefined, e.controlType),
      ...(b?.outId ? { out_id: b.outId } : {}),
      ...(b?.outOrderId ? { out_order_id: b.outOrderId } : {}),
      ...(e.controlType ? { control_type: e.controlType, control_msg: e.controlMsg ?? '' } : {}),
      ...(this.record.url ? { record_url: this.record.url } : {}),
      ...(this.record.path ? { record_path: this.record.path } : {}),
      ...(this.record.durationSec !== undefined ? { record_duration: this.record.durationSec } : {}),
    };
    try {
      await this.env.events.cdr(cdr);
    } catch (err) {
      this.log.error({ err: String(err) }, 'CallSession:CDR not recorded');
    }
  }
}

function isSdp(m: { has(h: string): boolean; get(h: string): string }): boolean {
  return m.has('Content-Type') && /^application\/sdp\b/i.test(m.get('Content-Type'));
}
