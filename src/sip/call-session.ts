// One CallSession per caller INVITE owns everything the call holds: the caller's transaction,
// the B leg (request while ringing, dialogs once answered), timers, media resources handed over
// by the media seam, and the call's events and CDR. `end()` is the one teardown, run once
// whoever triggers it (sbc-inbound call-session.js / jambonz _clearResources, in TypeScript).
import type Srf from 'drachtio-srf';
import type { Config } from '../config.js';
import type { SessionEnv } from './session-env.js';
import type { Logger } from '../log.js';
import type { Binding } from '../domain/binding.js';
import { CALL_TYPE } from '../domain/binding.js';
import type { BridgeDecision, Decision } from '../domain/route.js';
import { Q850 } from '../domain/route.js';
import type { CallEventType } from '../events/types.js';
import { callEvent, callRecord, type CallFacts } from './call-records.js';
import { RELEASE_DIR, type CallEnding, type MediaCall } from './media-call.js';
import type { CallOutcome } from './metrics.js';
import { reasonHeader } from './q850.js';
import { CallSdp } from './call-sdp.js';
import { BLeg, bLegRequest } from './b-leg.js';
import { maxDurationTimers, wireLegs } from './legs.js';
import { callFeatures, callLimit } from '../domain/call-features.js';
import { HuaweiCallReports } from './huawei-reporting.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

export type { SessionEnv } from './session-env.js';

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
  private readonly hw?: HuaweiCallReports;

  /** The call's one B leg, whichever flow launches it. */
  readonly b = new BLeg(() => this.log);
  // Both dialogs once a direct bridge connected (media flows hold theirs).
  private b2bua = false;
  private uas?: Dialog;
  private uac?: Dialog;
  private canceledByCaller = false;
  private signalling = true;
  private maxTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly env: SessionEnv,
    readonly req: Req,
    readonly res: Res,
  ) {
    this.callId = req.get('Call-ID');
    this.done = new Promise((r) => (this.resolveDone = r));
    if (env.huawei) this.hw = new HuaweiCallReports(env.huawei);
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
  debug(fields: Record<string, unknown>, msg: string): void {
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
    // The AXE callback record is written then too, off the routing path.
    setImmediate(() => {
      this.emitStart();
      if (d.remember) this.env.rememberCaller?.(d.remember);
    });
  }

  /** The binding a call is about when it is answered but not bridged (an announcement), for its CDR. */
  about(binding: Binding): void {
    this.binding = binding;
  }

  bLeg(target: string): { uri: string; headers: Record<string, string> } {
    return bLegRequest(this.env.outbound, this.x, target);
  }

  /** The direct bridge (flows/direct-bridge.ts) is launching B: the B2BUA answers a CANCEL. */
  bridging(): void {
    this.b2bua = true;
  }

  /** The caller sent CANCEL (the flow then ends the call as canceled). */
  get callerCanceled(): boolean {
    return this.canceledByCaller;
  }

  get config(): Config {
    return this.env.config;
  }

  /** B's INVITE left (the B2BUA's): post-dial metric; false when it must be canceled at once. */
  bInviteSent(uacReq: Req): boolean {
    this.b.req = uacReq;
    this.env.metrics.routing.observe((performance.now() - this.t0) / 1000);
    if (this.canceledByCaller || this.ended) {
      // The caller's CANCEL (or our teardown) came before the B INVITE left: cancel it now.
      this.b.cancel(this.ending?.cause ?? Q850.NORMAL_CLEARING);
      return false;
    }
    return true;
  }

  /** Both dialogs of a direct bridge: wired leg to leg, with the longest call duration (no tone: that needs media). */
  connect(uas: Dialog, uac: Dialog): void {
    this.uas = uas;
    this.uac = uac;
    const dirs = { a: RELEASE_DIR.CALLER, b: RELEASE_DIR.CALLEE } as const;
    wireLegs({ sdp: this.sdp, log: () => this.log }, uas, uac, (side, cause, reason) => {
      void this.end({ dir: dirs[side], cause, outcome: 'answered' }, side === 'a' ? uas : uac, reason);
    });
    // a Huawei binding's maxDuration, when smaller (its tones need media: not on this path)
    const b = this.binding;
    const limit = callLimit(this.env.config.SIP_MAX_CALL_SECONDS, b ? callFeatures({ binding: b, callType: this.callType, record: b.recording }) : {});
    this.maxTimers = maxDurationTimers(limit, () => this.log, { expire: (e) => void this.end(e) });
    this.debug({}, 'CallSession:connected');
  }

  /** The Reason header for BYEs and CANCELs: the ending's cause. */
  byeHeaders(): { headers: Record<string, string> } {
    return { headers: { Reason: reasonHeader(this.ending?.cause ?? Q850.NORMAL_CLEARING) } };
  }

  // ---- milestones -------------------------------------------------------------------------

  ringing(): void {
    this.b.alert();
    if (this.ringAt !== undefined || this.ended) return;
    this.ringAt = Date.now();
    this.env.metrics.pdd.observe((performance.now() - this.t0) / 1000);
    this.emit('ring', this.ringAt);
  }

  answered(): void {
    if (this.answerAt !== undefined || this.ended) return;
    this.answerAt = Date.now();
    this.b.answered = true;
    this.b.stopRinging();
    this.emit('answer', this.answerAt);
  }

  own(resource: { destroy(): unknown }): void {
    if (this.ended) {
      void Promise.resolve().then(() => resource.destroy()).catch(() => {});
      return;
    }
    this.owned.push(resource);
  }

  /** The caller keyed an extension (reported to a Huawei app as collectInfo). */
  extensionEntered(digits: string): void {
    this.hw?.keyed(digits, Date.now());
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
    this.canceledByCaller = true;
    this.log.info('CallSession:caller canceled');
    if (!this.b2bua) {
      // Still routing: nobody else will answer the INVITE (drachtio may already have sent 487).
      void this.end({ dir: RELEASE_DIR.CALLER, cause: Q850.NORMAL_CLEARING, status: 487, outcome: 'canceled' });
    } else if (!this.b.req) {
      // B INVITE not sent yet: the B2BUA has no cancel handler; answer A here, cancel B once sent.
      this.res.send(487);
    } else {
      this.b.settled = true;
    }
    // Otherwise the B2BUA sends 487 to A and CANCEL to B; the direct bridge sees the rejection.
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
    this.b.stopRinging();
    for (const t of this.maxTimers.splice(0)) clearTimeout(t);
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
      if (!this.uac) this.b.cancel(e.cause);
      const bye = () => {
        for (const dlg of [this.uas, this.uac]) {
          if (!dlg || dlg === from || !dlg.connected) continue;
          dlg.destroy({ headers: { Reason: reason } }).catch((err: unknown) => {
            this.log.info({ err: String(err) }, 'CallSession:end BYE failed');
          });
        }
      };
      // With a relay, its session goes before the other party hears of the end: a phone answers a
      // BYE with a last RTCP packet (its SDES names it), which a live relay session would forward
      // if the phone ignored a=rtcp:9 (rtcp-discard.ts) and sent it to the relay.
      if (this.callSdp?.anchored) void this.callSdp.close().catch(() => {}).finally(bye);
      else bye();
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

  // ---- events and CDR ---------------------------------------------------------------------

  private emitStart(): void {
    if (this.startEmitted) return;
    this.startEmitted = true;
    if (this.target !== undefined) this.hw?.calloutSent(Date.now());
    this.emit('start', this.receivedAt);
  }

  private facts(): CallFacts {
    return {
      callId: this.callId,
      caller: this.caller,
      secretNo: this.x || this.rawX,
      callType: this.callType,
      receivedAt: this.receivedAt,
      record: this.record,
      ...(this.binding ? { binding: this.binding } : {}),
      ...(this.target !== undefined ? { target: this.target } : {}),
      ...(this.ringAt !== undefined ? { ringAt: this.ringAt } : {}),
      ...(this.answerAt !== undefined ? { answerAt: this.answerAt } : {}),
    };
  }

  private emit(type: CallEventType, at: number, data?: Record<string, unknown>): void {
    const f = this.facts();
    this.env.events
      .event(callEvent(f, type, at, data), this.hw?.events(f, type, at, this.ending))
      .catch((err: unknown) => this.log.warn({ err: String(err), type }, 'CallSession:event not recorded'));
  }

  private async writeRecords(e: CallEnding, releaseAt: number): Promise<void> {
    if (this.hw && !this.binding) await this.hw.findApp(this.x, e);
    this.emitStart();
    this.emit('hangup', releaseAt, { release_dir: e.dir, release_cause: e.cause });
    try {
      const f = this.facts();
      await this.env.events.cdr(callRecord(f, e, releaseAt, this.env.config.TIMEZONE), this.hw?.fee(f, e, releaseAt));
    } catch (err) {
      this.log.error({ err: String(err) }, 'CallSession:CDR not recorded');
    }
  }
}
