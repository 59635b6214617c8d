// Does a bridge need FreeSWITCH in its media path, and which ring tone does it play? A tone named
// by the binding's RingConfig for the decision's ring key wins over the pool's default for that
// key; recording always needs media. Pure: the pool's defaults are read by the caller.
import type { RingConfig } from './binding.js';
import type { BridgeDecision } from './route.js';

/** The operator's ring-tone id this bridge plays while B rings, or undefined for the default ringback. */
export function ringToneId(d: BridgeDecision, poolDefaults: RingConfig | undefined): string | undefined {
  return d.ringKey ? (d.binding.ringConfig?.[d.ringKey] ?? poolDefaults?.[d.ringKey]) : undefined;
}

/** Media is needed to record the call or to play an operator's ring tone. */
export function bridgeNeedsMedia(d: BridgeDecision, poolDefaults: RingConfig | undefined): boolean {
  return d.record || ringToneId(d, poolDefaults) !== undefined;
}

/** Whether the pool's defaults can change the answer (no I/O needed when they cannot). */
export function dependsOnPoolDefaults(d: BridgeDecision): boolean {
  return !d.record && d.ringKey !== undefined && d.binding.ringConfig?.[d.ringKey] === undefined;
}
