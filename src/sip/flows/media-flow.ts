// The base of the flows with FreeSWITCH in the media path (media-bridge.ts, extension-entry.ts):
// the caller answered into a FreeSWITCH endpoint (extension prompt) or held in early media (ring
// tone), B offered from a second endpoint, both bridged inside FreeSWITCH (so recording sees both
// parties). Every resource is taken through one function that also frees it if the call ended
// meanwhile; `teardown()` runs once and hands the ending to the SIP call session
// (MediaCall.end), which writes events and the CDR.
import { mkdir } from 'node:fs/promises';
import { dirname, basename } from 'node:path';
import type Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import { Q850 } from '../../domain/route.js';
import type { MediaEnv } from '../../media/media-service.js';
import { MediaUnavailableError } from '../../media/media-link.js';
import { recordingDuration, recordingPath } from '../../audio-files/recording-files.js';
import { Ringback } from '../../media/ringback.js';
import { relayReinvite, relayRequest, SDP, wireDialog, type RelayContext } from '../legs.js';
import { RELEASE_DIR, type CallEnding, type MediaCall } from '../media-call.js';
import { reasonHeader } from '../q850.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

const DTMF_INFO = /^application\/(dtmf-relay|dtmf)\b/i;

/** The call ended while a step was waiting. */
export class CallGone extends Error {
  constructor() {
    super('call ended');
  }
}

class Unplayable extends Error {}

export class MediaFlow {
  private readonly local = new AbortController();
  protected readonly endpoints: Mrf.Endpoint[] = [];
  protected callerEp?: Mrf.Endpoint;
  protected bEp?: Mrf.Endpoint;
  /** Caller's dialog once xline answered it; B's dialog once B answered. */
  protected uas?: Dialog;
  protected uac?: Dialog;
  private ringback?: Ringback;
  protected recordPath?: string;
  /** Media handed to the two parties: FreeSWITCH is out, in-dialog requests go leg to leg. */
  protected direct = false;
  protected ending?: CallEnding;
  protected torn = false;
  private tornDown?: Promise<void>;
  protected readonly timers = new Set<NodeJS.Timeout>();
  private readonly relay: RelayContext;

  constructor(
    protected readonly env: MediaEnv,
    protected readonly call: MediaCall,
  ) {
    this.relay = { sdp: call.sdp, log: () => this.log };
    // The SIP side ended the call (caller CANCEL, drain, drachtio lost): stop every step.
    if (call.signal.aborted) this.local.abort();
    else call.signal.addEventListener('abort', () => this.stop({ dir: RELEASE_DIR.PLATFORM, cause: Q850.NORMAL_CLEARING }), { once: true });
    // ...and if its teardown runs first, ours frees the endpoints and dialogs all the same.
    call.own({ destroy: () => this.teardown() });
  }

  /** The call ended, or a step ended it: every waiting step has been woken. */
  protected get stopped(): boolean {
    return this.local.signal.aborted;
  }

  protected get log() {
    return this.call.log;
  }

  // ---- steps ------------------------------------------------------------------------------

  /** Answers the caller from a FreeSWITCH endpoint, starting `before` on it before the 200 OK. */
  protected async answerCaller<T>(before: (ep: Mrf.Endpoint) => Promise<T>): Promise<{ started: Promise<T> }> {
    const { req, res, srf } = this.call;
    if (!req.body) {
      this.stop({ dir: RELEASE_DIR.PLATFORM, cause: 88, status: 488, outcome: 'failed' });
      throw new CallGone();
    }
    const ep = (this.callerEp = await this.endpoint({ remoteSdp: req.body }));
    const started = before(ep);
    started.catch(() => undefined); // awaited by the caller of answerCaller; never unhandled
    this.uas = await this.dialog(srf.createUAS(req, res, { localSdp: this.call.sdp.local('a', ep.local.sdp) }));
    this.wireCaller(this.uas);
    return { started };
  }

  protected async goodbye(file: string, ending: CallEnding): Promise<void> {
    // Set first: the BYE after the prompt carries this cause.
    this.ending ??= ending;
    try {
      await this.until(withTimeout(this.callerEp!.play(file), 20_000));
    } catch (err) {
      if (!(err instanceof CallGone)) this.log.warn({ err: String(err), file }, 'MediaSession:announcement failed');
    }
    this.stop(ending);
  }

  /** Ring tone or ringback to the caller until B answers (ringback.ts). */
  protected startRingback(source: string): void {
    this.ringback = new Ringback(this.callerEp!, source, this.log);
  }

  protected async stopRingback(): Promise<void> {
    const rb = this.ringback;
    this.ringback = undefined;
    await rb?.stop();
  }

  /**
   * Plays a file to both parties of the bridge inside FreeSWITCH (recording hint, last-minute
   * tone): uuid_displace on the caller's channel and on B's, each replacing what its own party
   * hears while the file lasts (a media bug, removed at the file's end). Not uuid_broadcast: that
   * queues a playback for the bridge thread of each channel, and one issued just after uuid_bridge
   * reached the caller but was lost on B's side under load. Not awaited to its end; a failure is
   * logged, the call goes on.
   */
  protected async playToBoth(file: string, what: string): Promise<void> {
    const eps = [this.callerEp, this.bEp].filter((ep): ep is Mrf.Endpoint => ep !== undefined);
    if (eps.length === 0 || this.direct) return;
    try {
      const answers = await this.until(Promise.all(eps.map((ep) => this.env.link.api(`uuid_displace ${ep.uuid} start ${file} 0`))));
      const refused = answers.find((r) => !r.startsWith('+OK'));
      if (refused !== undefined) throw new Error(refused.trim());
      this.log.debug({ what }, 'MediaSession: tone played to both parties');
    } catch (err) {
      if (!(err instanceof CallGone)) this.log.warn({ err: String(err), what }, 'MediaSession:tone not played');
    }
  }

  protected async startRecording(ep: Mrf.Endpoint): Promise<void> {
    const path = recordingPath(this.env.config, this.call.callId);
    try {
      await mkdir(dirname(path), { recursive: true });
      // Both parties, mixed: the caller's endpoint reads the caller and writes what B says.
      const r = await this.until(this.env.link.api(`uuid_record ${ep.uuid} start ${path}`));
      if (!r.startsWith('+OK')) throw new Error(r.trim());
      this.recordPath = path;
    } catch (err) {
      if (err instanceof CallGone) throw err;
      this.log.error({ err: String(err) }, 'MediaSession:recording did not start');
    }
  }

  // ---- dialogs ----------------------------------------------------------------------------

  protected wireCaller(uas: Dialog): void {
    wireDialog(uas, {
      ended: (cause) => this.stop({ dir: RELEASE_DIR.CALLER, cause, outcome: this.call.b.answered ? 'answered' : 'canceled' }),
      // SIP INFO digits reach FreeSWITCH (liberal-dtmf) like RFC 2833 ones: prompt and B alike.
      info: (req, res) => void (this.direct ? relayRequest(this.relay, 'INFO', 'a', this.uac, req, res) : this.relayInfo(this.callerEp, req, res)),
      modify: (req, res) => void (this.direct ? relayReinvite(this.relay, 'a', uas, this.uac, req, res) : this.reoffer(uas, this.callerEp, req, res, 'a')),
    });
  }

  protected wireB(uac: Dialog): void {
    wireDialog(uac, {
      ended: (cause) => this.stop({ dir: RELEASE_DIR.CALLEE, cause, outcome: 'answered' }),
      info: (req, res) => void (this.direct ? relayRequest(this.relay, 'INFO', 'b', this.uas, req, res) : this.relayInfo(this.bEp, req, res)),
      modify: (req, res) => void (this.direct ? relayReinvite(this.relay, 'b', uac, this.uas, req, res) : this.reoffer(uac, this.bEp, req, res, 'b')),
    });
  }

  private async relayInfo(ep: Mrf.Endpoint | undefined, req: Req, res: Res): Promise<void> {
    res.send(200);
    const ct = req.has('Content-Type') ? req.get('Content-Type') : '';
    if (!ep || !DTMF_INFO.test(ct) || !ep.dialog?.connected) return;
    try {
      const r = await ep.dialog.request({ method: 'INFO', headers: { 'Content-Type': ct }, body: req.body });
      this.log.debug({ status: r.status }, 'MediaSession: INFO relayed to FreeSWITCH');
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:INFO relay failed');
    }
  }

  /** A re-INVITE from the caller or B: FreeSWITCH answers it for that leg. */
  private async reoffer(dlg: Dialog, ep: Mrf.Endpoint | undefined, req: Req, res: Res, side: 'a' | 'b'): Promise<void> {
    try {
      if (!req.body || !ep) {
        res.send(200, { headers: SDP, body: dlg.local.sdp });
        return;
      }
      const sdp = this.call.sdp.local(side, await ep.modify(req.body));
      dlg.local.sdp = sdp;
      res.send(200, { headers: SDP, body: sdp });
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:re-INVITE failed');
      res.send(488);
    }
  }

  // ---- resources and waiting --------------------------------------------------------------

  /** Creates an endpoint that is released even when it arrives after the call ended. */
  protected async endpoint(opts: Mrf.EndpointOptions): Promise<Mrf.Endpoint> {
    const p = this.env.link.createEndpoint(opts);
    p.then(
      (ep) => {
        if (this.torn) void this.env.link.release(ep);
        else {
          this.endpoints.push(ep);
          ep.once('destroy', () => {
            // FreeSWITCH lost a channel the call still uses (not one released by the hand-off).
            if (!this.torn && this.endpoints.includes(ep)) this.stop({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'error' });
          });
        }
      },
      () => undefined,
    );
    return this.until(p);
  }

  /** Waits for a dialog; one that completes after the call ended is hung up at once. */
  protected dialog(p: Promise<Dialog>): Promise<Dialog> {
    p.then(
      (dlg) => {
        if (this.torn) void dlg.destroy({ headers: { Reason: reasonHeader(this.ending?.cause ?? Q850.NORMAL_CLEARING) } }).catch(() => undefined);
      },
      () => undefined,
    );
    return this.until(p);
  }

  protected until<T>(p: Promise<T>): Promise<T> {
    const s = this.local.signal;
    if (s.aborted) {
      p.catch(() => undefined);
      return Promise.reject(new CallGone());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new CallGone());
      s.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          s.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          s.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  protected untilEnded(): Promise<void> {
    const s = this.local.signal;
    if (s.aborted) return Promise.resolve();
    return new Promise((resolve) => s.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Records why the call ends (first reason wins) and wakes every waiting step. */
  protected stop(e: CallEnding): void {
    this.ending ??= e;
    this.local.abort();
  }

  protected failed(err: unknown): void {
    if (err instanceof CallGone) return;
    const unavailable = err instanceof MediaUnavailableError;
    this.log[unavailable ? 'warn' : 'error']({ err: err instanceof Error ? err.message : String(err) }, 'MediaSession:failed');
    this.stop({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: unavailable ? 'unavailable' : 'error' });
  }

  // ---- teardown (once) --------------------------------------------------------------------

  teardown(): Promise<void> {
    this.tornDown ??= this.doTeardown();
    return this.tornDown;
  }

  private async doTeardown(): Promise<void> {
    this.torn = true;
    const e = (this.ending ??= { dir: RELEASE_DIR.PLATFORM, cause: Q850.NORMAL_CLEARING });
    this.local.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.call.b.stopRinging();
    const link = this.env.link;

    // Close the recording before anything hangs up, so its length is final when measured.
    if (this.recordPath && this.callerEp) {
      await link.api(`uuid_record ${this.callerEp.uuid} stop ${this.recordPath}`, 2000).catch(() => undefined);
    }
    if (!this.uac) this.call.b.cancel(e.cause);
    const reason = { headers: { Reason: reasonHeader(e.cause) } };
    for (const dlg of [this.uas, this.uac]) {
      if (dlg?.connected) void dlg.destroy(reason).catch((err: unknown) => this.log.info({ err: String(err) }, 'MediaSession:BYE failed'));
    }
    await Promise.allSettled(this.endpoints.splice(0).map((ep) => link.release(ep)));

    if (this.recordPath) {
      const durationSec = await recordingDuration(this.recordPath);
      const { url } = this.env.links.url(basename(this.recordPath));
      this.call.recording({ path: this.recordPath, url, ...(durationSec !== undefined ? { durationSec } : {}) });
    }
    await this.call.end(e);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Unplayable(`no completion in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}
