// What the receipts of a call carry beyond routing: the binding's OutId and OutOrderId echoed in
// every event and in the CDR, and the CDR's unconnected_cause in Alibaba's classes (0 a call put
// through, answered or not; 2 no binding; 3 call restricted). CDRs are read back from Redis.
import { beforeAll, describe, expect, it } from 'vitest';
import { canRun, cdrOf, eventsOf, mobile, placeCall, type Stack } from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-receipts-pool';

describe.skipIf(!canRun)('call receipts: OutId / OutOrderId echoed, unconnected_cause', () => {
  const t = sipSuite({ pool: POOL, poolName: 'receipts', callerOk: true });
  let s: Stack;
  const { bind } = t;
  const call = (o: Parameters<typeof placeCall>[1]) => t.call(s, o);

  beforeAll(async () => {
    s = await t.stack();
  });

  it('an answered AXB call: every event and the CDR echo OutId and OutOrderId; unconnected_cause 0', async () => {
    const a = mobile('138');
    const b = mobile('139');
    const { x, subsId } = await bind({ mode: 'AXB', a, b, outId: 'out-1', outOrderId: 'order-1' });
    const r = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b, holdMs: 200 });
    const cdr = await cdrOf(s, r.callId);
    expect(cdr).toMatchObject({ sub_id: subsId, out_id: 'out-1', out_order_id: 'order-1', unconnected_cause: 0 });
    const events = await eventsOf(s, r.callId);
    expect(events.map((e) => e.type)).toEqual(['start', 'ring', 'answer', 'hangup']);
    for (const e of events) expect(e).toMatchObject({ out_id: 'out-1', out_order_id: 'order-1' });
  });

  it('put through but not answered (B busy): unconnected_cause 0, the parties\' doing', async () => {
    const a = mobile('138');
    const b = mobile('139');
    const { x } = await bind({ mode: 'AXB', a, b });
    const r = await call({ uac: 'uac-busy-expect-486.xml', uas: 'uas-busy.xml', x, caller: a, target: b });
    const cdr = await cdrOf(s, r.callId);
    expect(cdr).toMatchObject({ release_cause: 17, unconnected_cause: 0 });
    expect(cdr.out_order_id).toBeUndefined();
  });

  it('refused: no binding (unknown X, a stranger on AXB) → 2; CallRestrict → 3', async () => {
    const a = mobile('138');
    const { x } = await bind({ mode: 'AXB', a, b: mobile('139'), outOrderId: 'order-2', callRestrict: 'CONTROL_AX_DISABLE' });
    const unknown = await call({ uac: 'uac-unbound-expect-404.xml', x: mobile('177'), caller: mobile('138') });
    expect(await cdrOf(s, unknown.callId)).toMatchObject({ control_type: 'no-binding', unconnected_cause: 2 });
    const stranger = await call({ uac: 'uac-refused-expect-403.xml', x, caller: mobile('150') });
    expect(await cdrOf(s, stranger.callId)).toMatchObject({ control_type: 'not-a-party', unconnected_cause: 2 });
    const restricted = await call({ uac: 'uac-refused-expect-403.xml', x, caller: a });
    expect(await cdrOf(s, restricted.callId)).toMatchObject({ control_type: 'call-restricted', unconnected_cause: 3, out_order_id: 'order-2' });
  });
});
