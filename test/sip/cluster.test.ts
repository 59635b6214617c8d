// SIP lookups on a real 3-master Redis Cluster: bindings whose X live on different masters (each
// X's keys in its own slot), calls through a real drachtio-server to xline and on to a sipp far
// end. Routed both ways, refused for a stranger, 404 for an unbound X; CDRs and events go through
// the event pipeline on the same cluster. Skips loudly without drachtio, sipp or redis-cli.
import { Registry } from 'prom-client';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEventPipeline } from '../../src/events/pipeline.js';
import { createLogger } from '../../src/log.js';
import { xKeys } from '../../src/store/codec.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import type { BindRequest } from '../../src/store/types.js';
import { cluster as clusterKind, type Backend } from '../support/store-backends.js';
import {
  canRun,
  cdrOf,
  cleanup,
  expectCleanBLeg,
  finalAtCaller,
  mobile,
  placeCall,
  reasonCause,
  receivedInvite,
  startStack,
  waitFor,
  type CallRun,
  type RedisSide,
  type Stack,
} from './harness.js';

const POOL = 'sip-cluster-pool';

describe.skipIf(!canRun || !clusterKind.available)('SIP lookups on a 3-master Redis Cluster', () => {
  let backend: Backend;
  let redis: Cluster;
  let side: RedisSide;
  let s: Stack;
  const runs: CallRun[] = [];

  beforeAll(async () => {
    backend = await clusterKind.start();
    redis = (await backend.connect()) as Cluster;
    const store = new RedisBindingStore(redis, { poolCacheMs: 0 });
    const pipeline = createEventPipeline({ redis, config: loadConfig({}), log: createLogger('silent'), metrics: new Registry() });
    // what startStack uses of a RedisSide: the store and the pipeline (no single redis-server here)
    side = { store, pipeline, redis: redis as unknown as Redis } as unknown as RedisSide;
    await store.upsertPool(POOL, { name: 'sip on a cluster', strictCity: false });
    s = await startStack(side, { transport: 'udp' });
  }, 90_000);
  afterAll(async () => {
    await s?.stop();
    await side?.store.close();
    await backend?.stop();
  });
  afterEach(() => {
    for (const r of runs.splice(0)) cleanup(r);
  });

  async function bind(req: Partial<BindRequest> & Pick<BindRequest, 'mode' | 'a'>): Promise<{ x: string; subsId: string }> {
    const x = req.x ?? mobile('177');
    await side.store.addNumbers(POOL, [{ number: x, city: '杭州' }]);
    const b = await side.store.bind({ poolKey: POOL, expiresAt: Math.floor(Date.now() / 1000) + 3600, recording: false, callDisplayType: 1, x, ...req });
    return { x: b.x, subsId: b.subsId };
  }

  async function call(o: Parameters<typeof placeCall>[1]): Promise<CallRun> {
    const r = await placeCall(s, o);
    runs.push(r);
    await waitFor(() => s.app.liveCalls() === 0, 5000, 'liveCalls() back to 0');
    return r;
  }

  async function refused(o: Parameters<typeof placeCall>[1], status: number, cause: number) {
    const r = await call(o);
    expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
    const fin = finalAtCaller(r.a);
    expect(fin?.status).toBe(status);
    expect(reasonCause(fin)).toBe(cause);
    expect(receivedInvite(r.b), 'the far end must not be called').toBeUndefined();
    return r;
  }

  it('AXB bindings on X in different masters: A→X rings B, B→X rings A, a stranger gets 403', async () => {
    // X numbers until their keys sit on at least two masters
    const slots = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const masterOf = async (x: string) => {
      const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', xKeys(x)[0]));
      return slots.find(([lo, hi]) => slot >= lo && slot <= hi)![2][1];
    };
    const masters = new Set<number>();
    const bound: { a: string; b: string; x: string; subsId: string }[] = [];
    for (let i = 0; i < 12 && (masters.size < 2 || bound.length < 3); i++) {
      const a = mobile('138');
      const b = mobile('139');
      const { x, subsId } = await bind({ mode: 'AXB', a, b });
      masters.add(await masterOf(x));
      bound.push({ a, b, x, subsId });
    }
    expect(masters.size).toBeGreaterThanOrEqual(2);
    for (const { a, b, x, subsId } of bound.slice(0, 3)) {
      const r = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: a, target: b });
      expect(r.a.code, r.a.errors).toBe(0);
      expectCleanBLeg(r.b, b, x, a);
      expect(await cdrOf(s, r.callId)).toMatchObject({ sub_id: subsId, pool_key: POOL, secret_no: x, phone_no: a, peer_no: b, call_type: 0 });
    }
    const { a, b, x } = bound[0]!;
    const back = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: b, target: a });
    expect(back.a.code, back.a.errors).toBe(0);
    expectCleanBLeg(back.b, a, x, b);
    expect(await cdrOf(s, back.callId)).toMatchObject({ phone_no: a, peer_no: b, call_type: 1 });
    await refused({ uac: 'uac-refused-expect-403.xml', x, caller: mobile('150') }, 403, 21);
  });

  it('AXN: N→X rings A; an X with no binding gets 404', async () => {
    const a = mobile('138');
    const { x } = await bind({ mode: 'AXN', a, b: mobile('139') });
    const n = mobile('150');
    const r = await call({ uac: 'uac-call-expect-200.xml', uas: 'uas-answer.xml', x, caller: n, target: a });
    expect(r.a.code, r.a.errors).toBe(0);
    expectCleanBLeg(r.b, a, x, n);
    expect(await cdrOf(s, r.callId)).toMatchObject({ call_type: 1, phone_no: a, peer_no: n });
    await refused({ uac: 'uac-unbound-expect-404.xml', x: mobile('177'), caller: n }, 404, 1);
  });
});
