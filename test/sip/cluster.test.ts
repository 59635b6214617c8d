// SIP lookups on a real 3-master Redis Cluster: bindings whose X live on different masters (each
// X's keys in its own slot), calls through a real drachtio-server to xline and on to a sipp far
// end. Routed both ways, refused for a stranger, 404 for an unbound X; CDRs and events go through
// the event pipeline on the same cluster. Skips loudly without drachtio, sipp or redis-cli.
import { Registry } from 'prom-client';
import type { Cluster, Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEventPipeline } from '../../src/events/pipeline.js';
import { createLogger } from '../../src/log.js';
import { xKeys } from '../../src/store/codec.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import { cluster as clusterKind, type Backend } from '../support/store-backends.js';
import {
  canRun,
  cdrOf,
  expectCleanBLeg,
  mobile,
  placeCall,
  type RedisSide,
  type Stack,
} from './harness.js';
import { sipSuite } from '../support/sip-suite.js';

const POOL = 'sip-cluster-pool';

describe.skipIf(!canRun || !clusterKind.available)('SIP lookups on a 3-master Redis Cluster', () => {
  let backend: Backend;
  let redis: Cluster;
  let s: Stack;
  const t = sipSuite({
    pool: POOL,
    poolName: 'sip on a cluster',
    settle: true,
    startTimeoutMs: 90_000,
    async side() {
      backend = await clusterKind.start();
      redis = (await backend.connect().catch(async (err: unknown) => {
        await backend.stop();
        throw err;
      })) as Cluster;
      const store = new RedisBindingStore(redis, { poolCacheMs: 0 });
      const pipeline = createEventPipeline({ redis, config: loadConfig({}), log: createLogger('silent'), metrics: new Registry() });
      // what startStack uses of a RedisSide: the store and the pipeline (no single redis-server here)
      const close = async () => {
        await store.close();
        await backend.stop();
      };
      return { store, pipeline, redis: redis as unknown as Redis, close } as unknown as RedisSide;
    },
  });
  const { bind } = t;
  const call = (o: Parameters<typeof placeCall>[1]) => t.call(s, o);
  const refused = (o: Parameters<typeof placeCall>[1], status: number, cause: number) => t.refused(s, o, status, cause);

  beforeAll(async () => {
    s = await t.stack({ transport: 'udp' });
  });

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
