// Huawei call events and CDRs as built from a call's facts (src/sip/huawei-records.ts), and the
// stateCode / ulFailReason mapping (src/domain/huawei-state-codes.ts). Pure.
import { describe, expect, it } from 'vitest';
import { huaweiState, HUAWEI_STATE, LENIENT_CALL_STOP } from '../../src/domain/huawei-state-codes.js';
import { globalNumber } from '../../src/domain/numbers.js';
import type { Binding } from '../../src/domain/binding.js';
import { huaweiEvents, huaweiFee, type HuaweiCallFacts, type HuaweiReportTarget } from '../../src/sip/huawei-records.js';
import type { CallEnding } from '../../src/sip/media-call.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5); // 2026-01-02 03:04:05 UTC
const target: HuaweiReportTarget = { appKey: 'app-1', spId: 'sp-9', hostName: 'xline-1', recordDomain: 'rec.example.test', home: 'CN' };

const axb: Binding = {
  subsId: 'S1', mode: 'AXB', poolKey: 'P', x: '17000000000', a: '13800000001', b: '13900000002', expiresAt: 0, createdAt: 0,
  recording: true, callDisplayType: 1, huawei: { appKey: 'app-1', userData: 'u-1' },
};
const axe: Binding = { ...axb, subsId: 'S2', mode: 'AXE', b: undefined, extension: '0042', huawei: { appKey: 'app-1' } };

const answered = (over: Partial<HuaweiCallFacts> = {}): HuaweiCallFacts => ({
  callId: 'call-1@h', caller: '13900000002', secretNo: '17000000000', binding: axb, callType: 1, target: '13800000001',
  receivedAt: T0, calloutAt: T0 + 50, ringAt: T0 + 1000, answerAt: T0 + 4000,
  record: { path: '/var/rec/call-1.wav', url: 'https://x.test/v1/recordings/call-1.wav?sig=1' }, ...over,
});

const body = (d: { body: string }) => JSON.parse(d.body) as Record<string, any>;

describe('Huawei state codes', () => {
  const ended = (over: Partial<Parameters<typeof huaweiState>[0]>) => huaweiState({ answered: false, alerted: false, cause: 16, ...over }).code;

  it("maps xline's control types", () => {
    expect(ended({ controlType: 'max-duration', answered: true })).toBe(8010);
    expect(ended({ controlType: 'self-call' })).toBe(8013);
    expect(ended({ controlType: 'no-binding' })).toBe(8014);
    expect(ended({ controlType: 'not-a-party' })).toBe(8014);
    expect(ended({ controlType: 'call-restricted' })).toBe(8016);
    expect(ended({ controlType: 'no-default-b' })).toBe(8019);
    expect(ended({ controlType: 'wrong-extension' })).toBe(8022);
    expect(ended({ controlType: 'no-extension' })).toBe(8022);
    expect(huaweiState({ answered: true, alerted: true, cause: 16, controlType: 'call-stop' })).toEqual(LENIENT_CALL_STOP);
    const lost = huaweiState({ answered: true, alerted: true, cause: 41, controlType: 'instance-lost' });
    expect(lost.code).toBe(0);
    expect(lost.desc).toContain('instance-lost');
  });

  it('maps SIP outcomes of the B leg', () => {
    expect(ended({ answered: true, alerted: true })).toBe(0);
    expect(ended({ outcome: 'canceled', alerted: true })).toBe(0);
    expect(ended({ sipStatus: 404, cause: 1 })).toBe(8100);
    expect(ended({ sipStatus: 604, cause: 1 })).toBe(8100);
    expect(ended({ sipStatus: 486, cause: 17 })).toBe(8102);
    expect(ended({ sipStatus: 600, cause: 17 })).toBe(8102);
    expect(ended({ sipStatus: 480, cause: 19, alerted: true })).toBe(8101);
    expect(ended({ sipStatus: 487, cause: 127, alerted: true })).toBe(8101);
    // xline's ring timer (or B's 408): after a 18x no answer, before any a connect timeout
    expect(ended({ sipStatus: 480, cause: 19, outcome: 'no-answer', alerted: true })).toBe(8101);
    expect(ended({ sipStatus: 480, cause: 19, outcome: 'no-answer', alerted: false })).toBe(8035);
    expect(ended({ sipStatus: 408, cause: 102 })).toBe(8035);
    expect(ended({ sipStatus: 480, cause: 20 })).toBe(8104);
    expect(huaweiState({ answered: false, alerted: false, cause: 41, sipStatus: 503 })).toEqual({ code: 0, desc: 'The platform releases the call: SIP 503.' });
    expect(HUAWEI_STATE.NORMAL.desc).toBe('The user releases the call.');
  });
});

describe('Huawei call events', () => {
  it('an answered AXB call: callin, callout, alerting, answer, disconnect, in global numbers and UTC', () => {
    const f = answered();
    const start = huaweiEvents(f, target, 'start', T0);
    expect(start.map((d) => d.type)).toEqual(['callin', 'callout']);
    expect(start.every((d) => d.to === 'huawei:status:app-1')).toBe(true);
    expect(body(start[0]!)).toEqual({
      eventType: 'callin',
      statusInfo: { timestamp: '2026-01-02 03:04:05', sessionId: 'call-1@h', caller: '+8613900000002', called: '+8617000000000', subscriptionId: 'S1', userData: 'u-1' },
    });
    expect(body(start[1]!).statusInfo).toMatchObject({ timestamp: '2026-01-02 03:04:05', called: '+8613800000001' });
    expect(body(start[1]!).statusInfo.userData).toBeUndefined();
    expect(huaweiEvents(f, target, 'ring', T0 + 1000).map(body)).toEqual([
      { eventType: 'alerting', statusInfo: { timestamp: '2026-01-02 03:04:06', sessionId: 'call-1@h', caller: '+8613900000002', called: '+8613800000001', subscriptionId: 'S1' } },
    ]);
    expect(body(huaweiEvents(f, target, 'answer', T0 + 4000)[0]!).eventType).toBe('answer');
    const end: CallEnding = { dir: 2, cause: 16, outcome: 'answered' };
    const disc = huaweiEvents(f, target, 'hangup', T0 + 64_000, end);
    expect(body(disc[0]!).statusInfo).toMatchObject({ timestamp: '2026-01-02 03:05:09', stateCode: 0, stateDesc: 'The user releases the call.' });
    expect(disc[0]!.id).toBe('call-1@h:hw.disconnect');
    expect(huaweiEvents(f, target, 'recording', T0)).toEqual([]);
  });

  it('AXE: collectInfo with the digits, no subscriptionId; a refused call has callin without callout', () => {
    const f = answered({ binding: axe, digits: '0042', digitsAt: T0 + 6000 });
    const start = huaweiEvents(f, target, 'start', T0 + 7000);
    expect(start.map((d) => d.type)).toEqual(['callin', 'collectInfo', 'callout']);
    expect(body(start[1]!).statusInfo).toMatchObject({ digitInfo: '0042', timestamp: '2026-01-02 03:04:11' });
    for (const d of start) expect(body(d).statusInfo.subscriptionId).toBeUndefined();

    const refused = answered({ binding: undefined, target: undefined, calloutAt: undefined, ringAt: undefined, answerAt: undefined, callType: 4, record: {} });
    expect(huaweiEvents(refused, target, 'start', T0).map((d) => d.type)).toEqual(['callin']);
    const disc = body(huaweiEvents(refused, target, 'hangup', T0 + 10, { dir: 0, cause: 1, status: 404, controlType: 'no-binding' })[0]!);
    expect(disc.statusInfo).toMatchObject({ stateCode: 8014, stateDesc: 'The binding does not exist.', called: '+8617000000000' });
  });
});

describe('Huawei CDR (FeeInfo)', () => {
  it('an answered, recorded B → A call', () => {
    const d = huaweiFee(answered(), target, { dir: 1, cause: 16, outcome: 'answered' }, T0 + 64_000);
    expect(d).toMatchObject({ id: 'call-1@h:hw.fee', type: 'fee', to: 'huawei:fee:app-1' });
    const b = body(d);
    expect(b.eventType).toBe('fee');
    expect(b.feeLst).toEqual([
      {
        direction: 0, spId: 'sp-9', appKey: 'app-1', bindNum: '+8617000000000', sessionId: 'call-1@h', subscriptionId: 'S1',
        callerNum: '+8613900000002', calleeNum: '+8617000000000', fwdDisplayNum: '+8617000000000', fwdDstNum: '+8613800000001',
        callInTime: '2026-01-02 03:04:05', fwdStartTime: '2026-01-02 03:04:05', fwdAlertingTime: '2026-01-02 03:04:06',
        fwdAnswerTime: '2026-01-02 03:04:09', callEndTime: '2026-01-02 03:05:09', fwdUnaswRsn: 0, ulFailReason: 0,
        recordFlag: 1, recordStartTime: '2026-01-02 03:04:09', recordDomain: 'rec.example.test', recordObjectName: 'call-1.wav',
        recordFileDownloadUrl: 'https://x.test/v1/recordings/call-1.wav?sig=1', userData: 'u-1', serviceType: '003', hostName: 'xline-1',
      },
    ]);
  });

  it('a busy callee, an AXE call and a call refused without a binding', () => {
    const busy = body(huaweiFee(answered({ callType: 0, answerAt: undefined, record: {} }), target, { dir: 2, cause: 17, status: 486, outcome: 'failed' }, T0 + 9000)).feeLst[0];
    expect(busy).toMatchObject({ direction: 1, fwdUnaswRsn: 17, ulFailReason: 8102, sipStatusCode: 486, failTime: '2026-01-02 03:04:14', recordFlag: 0 });
    expect(busy.fwdAnswerTime).toBeUndefined();
    expect(busy.recordObjectName).toBeUndefined();

    const e = body(huaweiFee(answered({ binding: axe, callType: 1 }), target, { dir: 1, cause: 16 }, T0 + 9000)).feeLst[0];
    expect(e).toMatchObject({ extendNum: '0042', subscriptionId: 'S2' });

    const refused = answered({ binding: undefined, target: undefined, calloutAt: undefined, ringAt: undefined, answerAt: undefined, callType: 4, record: {} });
    const r = body(huaweiFee(refused, target, { dir: 0, cause: 1, status: 404, controlType: 'no-binding' }, T0 + 20)).feeLst[0];
    expect(r).toMatchObject({ direction: 2, subscriptionId: '', ulFailReason: 8014, sipStatusCode: 404, fwdUnaswRsn: 1 });
    expect(r.fwdDstNum).toBeUndefined();
    expect(r.fwdStartTime).toBeUndefined();
  });

  it('numbers in global form: mobiles, fixed lines without the trunk 0, foreign and non-numbers as they are', () => {
    expect(globalNumber('13800000001')).toBe('+8613800000001');
    expect(globalNumber('075528000001')).toBe('+8675528000001');
    expect(globalNumber('+14155550100')).toBe('+14155550100');
    expect(globalNumber('anonymous')).toBe('anonymous');
  });
});
