import { describe, expect, it } from 'vitest';
import { AXB_BINDING } from '../support/bindings.js';
import type { Binding } from '../../src/domain/binding.js';
import { decide, type Decision, type Lookup } from '../../src/domain/route.js';

const base: Binding = { ...AXB_BINDING };
const bind = (p: Partial<Binding>): Binding => ({ ...base, ...p });
const match = (binding: Binding, role: 'A' | 'B' | 'N'): Lookup => ({ kind: 'match', binding, role });
const call = (caller: string) => ({ caller, x: base.x });
/** A Huawei AX binding whose temporary callee expires at `until`, looked up at `now`. */
function axTemp(until: number, now: number | undefined, callRestrict?: Binding['callRestrict'], role: 'A' | 'N' = 'A'): Lookup {
  const binding = bind({ mode: 'AX', b: undefined, ...(callRestrict ? { callRestrict } : {}), huawei: { appKey: 'k', tempCallee: { number: '13600000009', expiresAt: until } } });
  return { kind: 'match', binding, role, ...(now !== undefined ? { now } : {}) };
}

/** A Huawei AXE binding with a callbackNum, A calling X, its callback record `lastCaller`, looked up at `now`. */
function axeBack(lastCaller: { number: string; expiresAt: number }, now: number | undefined): Lookup {
  const binding = bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k', callbackNum: '13600000008' } });
  return { kind: 'match', binding, role: 'A', lastCaller, ...(now !== undefined ? { now } : {}) };
}

type Row = [name: string, caller: string, lookup: Lookup, expected: Partial<Decision> & Record<string, unknown>];

const rows: Row[] = [
  ['no binding → 404 cause 1', '13700000000', { kind: 'none' }, { kind: 'refuse', status: 404, cause: 1, reason: 'no-binding' }],
  ['AXB stranger → 403 cause 21', '13700000000', { kind: 'stranger' }, { kind: 'refuse', status: 403, cause: 21, reason: 'not-a-party' }],
  ['AXB A→X rings B', base.a, match(base, 'A'), { kind: 'bridge', target: base.b, callType: 0, ringKey: 'AXBRing_A' }],
  ['AXB B→X rings A', base.b!, match(base, 'B'), { kind: 'bridge', target: base.a, callType: 1, ringKey: 'AXBRing_B' }],
  ['AXB A restricted', base.a, match(bind({ callRestrict: 'CONTROL_AX_DISABLE' }), 'A'), { kind: 'refuse', status: 403, cause: 21, reason: 'call-restricted' }],
  ['AXB A allowed when only BX restricted', base.a, match(bind({ callRestrict: 'CONTROL_BX_DISABLE' }), 'A'), { kind: 'bridge', target: base.b }],
  ['AXB B restricted', base.b!, match(bind({ callRestrict: 'CONTROL_BX_DISABLE' }), 'B'), { kind: 'refuse', status: 403, reason: 'call-restricted' }],
  ['AXB B allowed when only AX restricted', base.b!, match(bind({ callRestrict: 'CONTROL_AX_DISABLE' }), 'B'), { kind: 'bridge', target: base.a }],
  ['AXB role N is refused', '13700000000', match(base, 'N'), { kind: 'refuse', status: 403, reason: 'not-a-party' }],
  ['AXN A→X rings default B', base.a, match(bind({ mode: 'AXN' }), 'A'), { kind: 'bridge', target: base.b, callType: 0, ringKey: 'AXNRing_AB' }],
  ['AXN A→X without default B → 404', base.a, match(bind({ mode: 'AXN', b: undefined }), 'A'), { kind: 'refuse', status: 404, reason: 'no-default-b' }],
  ['AXN N→X rings A', '13700000000', match(bind({ mode: 'AXN' }), 'N'), { kind: 'bridge', target: base.a, callType: 1, ringKey: 'AXNRing_N' }],
  ['AXN N restricted by BX', '13700000000', match(bind({ mode: 'AXN', callRestrict: 'CONTROL_BX_DISABLE' }), 'N'), { kind: 'refuse', status: 403 }],
  ['AXN A restricted by AX', base.a, match(bind({ mode: 'AXN', callRestrict: 'CONTROL_AX_DISABLE' }), 'A'), { kind: 'refuse', status: 403 }],
  ['AXE needs an extension', '13700000000', { kind: 'need-extension', poolKey: 'FC1' }, { kind: 'collect', poolKey: 'FC1' }],
  ['AXE needs an extension of at most 3 digits', '13700000000', { kind: 'need-extension', poolKey: 'FC1', extensionDigits: 3 }, { kind: 'collect', poolKey: 'FC1', extensionDigits: 3 }],
  ['AXE extension matched rings A', '13700000000', match(bind({ mode: 'AXE', extension: '12', b: undefined }), 'N'), { kind: 'bridge', target: base.a, callType: 1 }],
  ['AXE A of X goes to default B', base.a, match(bind({ mode: 'AXE', extension: '12' }), 'A'), { kind: 'bridge', target: base.b, callType: 0 }],
  ['AXE A of X without default B → 404', base.a, match(bind({ mode: 'AXE', extension: '12', b: undefined }), 'A'), { kind: 'refuse', status: 404 }],
  ['AX anyone rings A', '13700000000', match(bind({ mode: 'AX', b: undefined }), 'N'), { kind: 'bridge', target: base.a, callType: 1 }],
  ['AX A calling its own X is refused', base.a, match(bind({ mode: 'AX', b: undefined }), 'N'), { kind: 'refuse', status: 403, reason: 'self-call' }],
  ['Huawei AXE A→X without default B rings its callbackNum', base.a, match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k', callbackNum: '13600000008' } }), 'A'), { kind: 'bridge', target: '13600000008', callType: 0 }],
  ['Huawei AXE A→X with callbackTone only: the tone, else 404 no-callback', base.a, match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k', callbackTone: 't' } }), 'A'), { kind: 'announce', tone: 't', refusal: { kind: 'refuse', status: 404, cause: 1, reason: 'no-callback' } }],
  ['Huawei AXE A→X with neither callbackNum nor callbackTone → 404 no-callback', base.a, match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k' } }), 'A'), { kind: 'refuse', status: 404, reason: 'no-callback' }],
  // Huawei AXE callback records: A dialling X reaches its last caller while the record lasts
  ['Huawei AXE A→X rings its last caller before the callbackNum', base.a, axeBack({ number: '13700000005', expiresAt: 1000 }, 999), { kind: 'bridge', target: '13700000005', callType: 0, ringKey: 'AXNRing_AB' }],
  ['Huawei AXE A→X: a record of expiry 0 lasts with the binding', base.a, axeBack({ number: '13700000005', expiresAt: 0 }, 5_000_000), { kind: 'bridge', target: '13700000005' }],
  ['Huawei AXE A→X after the record expired rings the callbackNum', base.a, axeBack({ number: '13700000005', expiresAt: 1000 }, 1000), { kind: 'bridge', target: '13600000008' }],
  ['Huawei AXE A→X with no clock from the lookup gets no callback record', base.a, axeBack({ number: '13700000005', expiresAt: 0 }, undefined), { kind: 'bridge', target: '13600000008' }],
  // Huawei AX: A dialling X reaches the temporary callee while it lasts (by the store's clock)
  ['AX A→X rings the live temporary callee', base.a, axTemp(1000, 999), { kind: 'bridge', target: '13600000009', callType: 0 }],
  ['AX A→X after the temporary callee expired is refused', base.a, axTemp(1000, 1000), { kind: 'refuse', status: 403, reason: 'self-call' }],
  ['AX A→X with no clock from the lookup gets no temporary callee', base.a, axTemp(1000, undefined), { kind: 'refuse', status: 403, reason: 'self-call' }],
  ['AX anyone else still rings A when a temporary callee is set', '13700000000', axTemp(1000, 999, undefined, 'N'), { kind: 'bridge', target: base.a, callType: 1 }],
  ['AX callDirection 2 (only others call X): A refused despite a temporary callee', base.a, axTemp(1000, 999, 'CONTROL_AX_DISABLE'), { kind: 'refuse', status: 403, reason: 'call-restricted' }],
  ['AX callDirection 1 (only A calls X): others refused', '13700000000', axTemp(1000, 999, 'CONTROL_BX_DISABLE', 'N'), { kind: 'refuse', status: 403, reason: 'call-restricted' }],
];

describe('decide', () => {
  it.each(rows)('%s', (_name, caller, lookup, expected) => {
    expect(decide(call(caller), lookup)).toMatchObject(expected);
  });

  it('records when the binding says so', () => {
    const d = decide(call(base.a), match(bind({ recording: true }), 'A'));
    expect(d).toMatchObject({ kind: 'bridge', record: true });
  });

  it('Huawei AXE: a caller reaching A is remembered for the binding, for callbackExpiredTime in its unit (else as long as the binding)', () => {
    const huawei = { appKey: 'k', callbackExpiredTime: 2, timeUnit: '1' };
    const d = decide(call('13700000005'), match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei }), 'N'));
    expect(d).toMatchObject({ kind: 'bridge', target: base.a, remember: { poolKey: base.poolKey, x: base.x, subsId: base.subsId, caller: '13700000005', seconds: 120 } });
    const hours = decide(call('13700000005'), match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k', callbackExpiredTime: 3 } }), 'N'));
    expect(hours).toMatchObject({ remember: { seconds: 10_800 } });
    const none = decide(call('13700000005'), match(bind({ mode: 'AXE', extension: '12', b: undefined, huawei: { appKey: 'k' } }), 'N'));
    expect(none).toMatchObject({ remember: { seconds: 0 } });
    // an Alibaba AXN-extension binding keeps no callback records
    expect(decide(call('13700000005'), match(bind({ mode: 'AXE', extension: '12', b: undefined }), 'N'))).not.toHaveProperty('remember');
  });

  it('refusals of a known binding carry it for the CDR', () => {
    const b = bind({ callRestrict: 'CONTROL_AX_DISABLE' });
    const d = decide(call(base.a), match(b, 'A'));
    expect(d.kind === 'refuse' && d.binding?.subsId).toBe(b.subsId);
  });
});
