// What the media flows (sip/flows/media-flow.ts and its subclasses) see of the call session: a
// MediaCall, and how a call ends (CallEnding, RELEASE_DIR).
import type Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import type { BridgeDecision, Decision } from '../domain/route.js';
import type { BLeg } from './b-leg.js';
import type { CallOutcome } from './metrics.js';
import type { CallSdp } from './call-sdp.js';

/** Who released the call (Alibaba release_dir): 0 the platform, 1 the caller, 2 the callee. */
export const RELEASE_DIR = { PLATFORM: 0, CALLER: 1, CALLEE: 2 } as const;
export type ReleaseDir = (typeof RELEASE_DIR)[keyof typeof RELEASE_DIR];

export interface CallEnding {
  dir: ReleaseDir;
  /** Q.850 cause for the CDR and the Reason header. */
  cause: number;
  /** Final response for the caller's INVITE, when none was sent yet (with Reason: Q.850). */
  status?: number;
  outcome?: CallOutcome;
  /** Alibaba control_type / control_msg, for refusals. */
  controlType?: string;
  controlMsg?: string;
}

export interface MediaCall {
  readonly callId: string;
  /** Per-call child logger (numbers masked). */
  readonly log: Logger;
  readonly req: Srf.SrfRequest;
  readonly res: Srf.SrfResponse;
  readonly srf: Srf;
  /** Canonical caller number (or the raw From user when not a number) and X. */
  readonly caller: string;
  readonly x: string;
  /**
   * Every SDP given to the caller ('a') or the called party ('b'), FreeSWITCH's included, goes
   * through this: one origin per party, nothing naming the other. `anchored`: a media relay is
   * configured, and FreeSWITCH, once in a call, stays in its media path (it is the anchor).
   */
  readonly sdp: CallSdp;
  /** The call's B leg: its INVITE, CANCEL, ring timer and states (one per call, whichever flow). */
  readonly b: BLeg;
  /** Aborted when the call is torn down (caller CANCEL or BYE, drain, drachtio lost). */
  readonly signal: AbortSignal;
  /** One store lookup + decide() for the digits the caller keyed. Rejects when Redis fails. */
  route(extension: string): Promise<Decision>;
  /** Request-URI and headers for a B leg to `target`: From/Contact/PAI = X, nothing of the caller. */
  bLeg(target: string): { uri: string; headers: Record<string, string> };
  /** The decision the call was finally routed by (pool/sub ids, call_type, numbers in the CDR). */
  routed(decision: BridgeDecision): void;
  /** B alerted (first 18x) and B answered: events, CDR times, post-dial delay. */
  ringing(): void;
  answered(): void;
  /** Frees `resource` at teardown, once, in its own try/catch (endpoints, extra dialogs). */
  own(resource: { destroy(): unknown }): void;
  /** The caller keyed an extension (AXE: a Huawei app's collectInfo). */
  extensionEntered(digits: string): void;
  /** Recording facts for the CDR. */
  recording(info: { path?: string; url?: string; durationSec?: number }): void;
  /** Ends the call; teardown runs once whoever calls it. */
  end(ending: CallEnding): Promise<void>;
}
