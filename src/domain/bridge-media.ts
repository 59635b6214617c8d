// Does a bridge need FreeSWITCH in its media path, and which ring tone does it play? A tone named
// by the binding's RingConfig for the decision's ring key wins over the pool's default for that
// key; recording, a preVoice tone (before answer) and a last-minute tone (mid-call) always need
// media (call-features.ts). Pure: the pool's defaults are read by the caller.
import type { RingConfig } from './binding.js';
import { callFeatures, mediaAfterAnswer } from './call-features.js';
import type { BridgeDecision } from './route.js';

/** The operator's ring-tone id this bridge plays while B rings, or undefined for the default ringback. */
export function ringToneId(d: BridgeDecision, poolDefaults: RingConfig | undefined): string | undefined {
  return d.ringKey ? (d.binding.ringConfig?.[d.ringKey] ?? poolDefaults?.[d.ringKey]) : undefined;
}

/** Media whatever the pool's defaults: recording, a last-minute tone, or a preVoice tone for this caller. */
function bindingNeedsMedia(d: BridgeDecision): boolean {
  return mediaAfterAnswer(d) || callFeatures(d).preVoice !== undefined;
}

/** Media is needed to record the call, to play an operator's ring tone, or a Huawei binding's tones. */
export function bridgeNeedsMedia(d: BridgeDecision, poolDefaults: RingConfig | undefined): boolean {
  return bindingNeedsMedia(d) || ringToneId(d, poolDefaults) !== undefined;
}

/** Whether the pool's defaults can change the answer (no I/O needed when they cannot). */
export function dependsOnPoolDefaults(d: BridgeDecision): boolean {
  return d.ringKey !== undefined && d.binding.ringConfig?.[d.ringKey] === undefined && !bindingNeedsMedia(d);
}
