// What a binding asks of a call beyond routing (Huawei's call features, HUAWEI.md §3): the preVoice
// tone the caller hears before the callee answers, the recording hint both parties hear at answer,
// and the longest the call may last with the tone one minute before. Pure: tone names are returned
// as the binding holds them (the media side finds their files).
import { CALL_TYPE } from './binding.js';
import type { BridgeDecision } from './route.js';

export interface CallFeatures {
  /** preVoice: callerHintTone when the binding's A side called, calleeHintTone when the other party did. */
  preVoice?: string;
  /** recordHintTone, on a recorded call only: both parties hear it at answer. */
  recordHint?: string;
  /** maxDuration in seconds from answer (absent: the binding sets no limit). */
  maxSeconds?: number;
  /** lastMinVoice, only with a maxDuration (Huawei: "only if maxDuration≠0"). */
  lastMinVoice?: string;
}

type Routed = Pick<BridgeDecision, 'binding' | 'callType' | 'record'>;

export function callFeatures(d: Routed): CallFeatures {
  const h = d.binding.huawei;
  if (!h) return {};
  // CALL_TYPE.CALLER: A (or an AX A reaching its temporary callee, an AXE A its callbackNum) called X
  const preVoice = d.callType === CALL_TYPE.CALLER ? h.callerHintTone : h.calleeHintTone;
  const maxSeconds = h.maxDuration ? h.maxDuration * 60 : undefined;
  return {
    ...(preVoice ? { preVoice } : {}),
    ...(d.record && h.recordHintTone ? { recordHint: h.recordHintTone } : {}),
    ...(maxSeconds ? { maxSeconds } : {}),
    ...(maxSeconds && h.lastMinVoice ? { lastMinVoice: h.lastMinVoice } : {}),
  };
}

/** How long before the end the last-minute tone plays. */
export const LAST_MINUTE_SECONDS = 60;

/** The longest a connected call may last, from answer, and when the last-minute tone plays. */
export interface CallLimit {
  seconds: number;
  /** The binding's maxDuration set it (else the platform's SIP_MAX_CALL_SECONDS). */
  byBinding: boolean;
  /** Seconds from answer at which lastMinVoice plays to both parties (0: at answer). */
  lastMinuteAt?: number;
}

/**
 * The smaller of the platform's limit and the binding's maxDuration wins. The last-minute tone
 * plays one minute before the call is cut, whichever limit cuts it; at answer when the limit is a
 * minute or less.
 */
export function callLimit(platformSeconds: number, f: CallFeatures): CallLimit {
  const byBinding = f.maxSeconds !== undefined && f.maxSeconds < platformSeconds;
  const seconds = byBinding ? f.maxSeconds! : platformSeconds;
  return {
    seconds,
    byBinding,
    ...(f.lastMinVoice ? { lastMinuteAt: Math.max(0, seconds - LAST_MINUTE_SECONDS) } : {}),
  };
}

/**
 * FreeSWITCH must stay in the media path after answer: to record, or to play the last-minute tone
 * mid-call (a direct bridge has no media of ours to play it into).
 */
export function mediaAfterAnswer(d: Routed): boolean {
  return d.record || callFeatures(d).lastMinVoice !== undefined;
}
