import { describe, expect, it } from 'vitest';
import { AXB_BINDING } from '../support/bindings.js';
import type { Binding, HuaweiFields, RingConfig } from '../../src/domain/binding.js';
import { bridgeNeedsMedia, dependsOnPoolDefaults, ringToneId } from '../../src/domain/bridge-media.js';
import type { BridgeDecision } from '../../src/domain/route.js';

const binding: Binding = { ...AXB_BINDING };
const bridge = (p: { record?: boolean; ringKey?: BridgeDecision['ringKey']; ringConfig?: RingConfig; huawei?: HuaweiFields; callType?: number }): BridgeDecision => ({
  kind: 'bridge',
  binding: { ...binding, ...(p.ringConfig ? { ringConfig: p.ringConfig } : {}), ...(p.huawei ? { huawei: p.huawei } : {}) },
  target: binding.b!,
  callType: p.callType ?? 0,
  record: p.record ?? false,
  ...(p.ringKey ? { ringKey: p.ringKey } : {}),
});

type Row = [name: string, d: BridgeDecision, pool: RingConfig | undefined, tone: string | undefined, needs: boolean, dependsOnPool: boolean];

const rows: Row[] = [
  ['nothing asked: direct', bridge({ ringKey: 'AXBRing_A' }), undefined, undefined, false, true],
  ['recording: media, whatever the tones', bridge({ record: true, ringKey: 'AXBRing_A' }), undefined, undefined, true, false],
  ['binding tone for the key', bridge({ ringKey: 'AXBRing_A', ringConfig: { AXBRing_A: 'own' } }), { AXBRing_A: 'pool' }, 'own', true, false],
  ['binding tone for another key only', bridge({ ringKey: 'AXBRing_B', ringConfig: { AXBRing_A: 'own' } }), undefined, undefined, false, true],
  ['pool default for the key', bridge({ ringKey: 'AXBRing_B' }), { AXBRing_B: 'pool' }, 'pool', true, true],
  ['pool default for another key', bridge({ ringKey: 'AXBRing_B' }), { AXBRing_A: 'pool' }, undefined, false, true],
  ['no ring key: no tone', bridge({}), { AXBRing_A: 'pool' }, undefined, false, false],
  // Huawei bindings: tones need FreeSWITCH (call-features.ts)
  ['Huawei preVoice for this caller (A)', bridge({ ringKey: 'AXBRing_A', huawei: { appKey: 'k', callerHintTone: 'c' } }), undefined, undefined, true, false],
  ['Huawei preVoice of the other side only', bridge({ ringKey: 'AXBRing_B', callType: 1, huawei: { appKey: 'k', callerHintTone: 'c' } }), undefined, undefined, false, true],
  ['Huawei preVoice for B calling', bridge({ ringKey: 'AXBRing_B', callType: 1, huawei: { appKey: 'k', calleeHintTone: 'c' } }), undefined, undefined, true, false],
  ['Huawei lastMinVoice with maxDuration', bridge({ huawei: { appKey: 'k', maxDuration: 5, lastMinVoice: 'l' } }), undefined, undefined, true, false],
  ['Huawei maxDuration alone: a direct bridge ends it', bridge({ huawei: { appKey: 'k', maxDuration: 5 } }), undefined, undefined, false, false],
  ['Huawei recordHintTone without recording: nothing to play', bridge({ huawei: { appKey: 'k', recordHintTone: 'r' } }), undefined, undefined, false, false],
];

describe('bridge media choice (pure)', () => {
  it.each(rows)('%s', (_name, d, pool, tone, needs, depends) => {
    expect(ringToneId(d, pool)).toBe(tone);
    expect(bridgeNeedsMedia(d, pool)).toBe(needs);
    expect(dependsOnPoolDefaults(d)).toBe(depends);
  });
});
