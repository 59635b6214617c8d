// Huawei call features as a bridge sees them (src/domain/call-features.ts), through decide() so
// that "who called" is the routing decision's own: the preVoice tone of this caller, the recording
// hint on recorded calls only, the limit (the smaller of the platform's and the binding's) with
// its last-minute tone, and whether FreeSWITCH must stay in the call after answer.
import { describe, expect, it } from 'vitest';
import type { Binding, HuaweiFields } from '../../src/domain/binding.js';
import { callFeatures, callLimit, mediaAfterAnswer } from '../../src/domain/call-features.js';
import { decide, type BridgeDecision, type Lookup } from '../../src/domain/route.js';

const A = '13800000001';
const B = '13900000002';
const N = '13700000003';
const TEMP = '13600000009';
const tones: HuaweiFields = { appKey: 'k', callerHintTone: 'caller.wav', calleeHintTone: 'callee', recordHintTone: 'rec', lastMinVoice: 'last', maxDuration: 3 };

function routed(mode: Binding['mode'], caller: string, role: 'A' | 'B' | 'N', h: Partial<HuaweiFields> = tones, recording = false): BridgeDecision {
  const binding: Binding = {
    subsId: '170000000010000001',
    mode,
    poolKey: 'P',
    x: '17000000001',
    a: A,
    ...(mode === 'AXB' ? { b: B } : {}),
    expiresAt: 2_000_000_000,
    createdAt: 1_700_000_000,
    recording,
    callDisplayType: 1,
    huawei: { appKey: 'k', ...h, ...(mode === 'AX' ? { tempCallee: { number: TEMP, expiresAt: 2_000_000_000 } } : {}), ...(mode === 'AXE' ? { callbackNum: TEMP } : {}) },
  };
  const found: Lookup = { kind: 'match', binding, role, now: 1_800_000_000 };
  const d = decide({ caller, x: binding.x }, found);
  if (d.kind !== 'bridge') throw new Error(`not a bridge: ${JSON.stringify(d)}`);
  return d;
}

describe('Huawei call features (pure)', () => {
  it.each([
    ['AXB: A calls X → callerHintTone', routed('AXB', A, 'A'), 'caller.wav'],
    ['AXB: B calls X → calleeHintTone', routed('AXB', B, 'B'), 'callee'],
    ['AX: A calls X (temporary callee) → callerHintTone', routed('AX', A, 'A'), 'caller.wav'],
    ['AX: anyone else → calleeHintTone', routed('AX', N, 'N'), 'callee'],
    ['AXE: A calls X (callbackNum) → callerHintTone', routed('AXE', A, 'A'), 'caller.wav'],
    ['AXE: a caller keying the extension → calleeHintTone', routed('AXE', N, 'N'), 'callee'],
    ['only the other side has a tone: none', routed('AXB', A, 'A', { calleeHintTone: 'callee' }), undefined],
  ])('%s', (_name, d, preVoice) => {
    expect(callFeatures(d).preVoice).toBe(preVoice);
  });

  it('recordHintTone only on a recorded call; lastMinVoice only with a maxDuration', () => {
    expect(callFeatures(routed('AXB', A, 'A', tones, true))).toMatchObject({ recordHint: 'rec', maxSeconds: 180, lastMinVoice: 'last' });
    expect(callFeatures(routed('AXB', A, 'A', tones, false)).recordHint).toBeUndefined();
    expect(callFeatures(routed('AXB', A, 'A', { lastMinVoice: 'last' })).lastMinVoice).toBeUndefined();
    expect(callFeatures(routed('AXB', A, 'A', { lastMinVoice: 'last', maxDuration: 0 }))).toEqual({});
  });

  it('the smaller limit wins; the last-minute tone one minute before whichever cuts, at answer for 1 minute', () => {
    expect(callLimit(7200, { maxSeconds: 180, lastMinVoice: 'l' })).toEqual({ seconds: 180, byBinding: true, lastMinuteAt: 120 });
    expect(callLimit(7200, { maxSeconds: 60, lastMinVoice: 'l' })).toEqual({ seconds: 60, byBinding: true, lastMinuteAt: 0 });
    expect(callLimit(100, { maxSeconds: 180, lastMinVoice: 'l' })).toEqual({ seconds: 100, byBinding: false, lastMinuteAt: 40 });
    expect(callLimit(7200, { maxSeconds: 180 })).toEqual({ seconds: 180, byBinding: true });
    expect(callLimit(7200, {})).toEqual({ seconds: 7200, byBinding: false });
  });

  it('FreeSWITCH stays after answer to record or to play the last-minute tone, not for a preVoice alone', () => {
    expect(mediaAfterAnswer(routed('AXB', A, 'A', { callerHintTone: 'c' }))).toBe(false);
    expect(mediaAfterAnswer(routed('AXB', A, 'A', { callerHintTone: 'c' }, true))).toBe(true);
    expect(mediaAfterAnswer(routed('AXB', A, 'A', { maxDuration: 2, lastMinVoice: 'l' }))).toBe(true);
    expect(mediaAfterAnswer(routed('AXB', A, 'A', { maxDuration: 2 }))).toBe(false);
  });
});
