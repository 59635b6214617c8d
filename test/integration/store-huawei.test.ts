// What the Huawei PrivateNumber API needs of the store, against real Redis (standalone and a
// 3-master Cluster): area codes on pool numbers and areaCode / areaMatchMode selection, Huawei
// fields in the record (bind, modify, clear), the AX temporary callee through lookup + decide,
// AXE extensions of 1-4 digits (auto-allocated without prefix ambiguity, 4 digits once 3 are
// taken), the rule a conflict names, X's bindings page by page, lookups by index entry and the
// AX A → X hint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { XlineError } from '../../src/domain/errors.js';
import { decide } from '../../src/domain/route.js';
import { poolHint, poolNumbersKey, xKeys } from '../../src/store/codec.js';
import { HuaweiModesStore as HuaweiStore, axOwnerKey } from '../../src/store/huawei-modes-store.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import type { BindRequest } from '../../src/store/types.js';
import { backends, type Backend } from '../support/store-backends.js';

async function rejection(p: Promise<unknown>): Promise<XlineError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(XlineError);
  return e as XlineError;
}

async function redisNow(redis: Redis | Cluster): Promise<number> {
  return Number(((await (redis as Redis).call('TIME')) as string[])[0]);
}

describe.each(backends)('Huawei store parts on $name', (kind) => {
  let backend: Backend;
  let redis: Redis | Cluster;
  let store: RedisBindingStore;
  let hw: HuaweiStore;
  let nx = 0;
  let nn = 0;
  let np = 0;
  const newX = () => '172' + String(++nx).padStart(8, '0');
  const newNum = () => '139' + String(++nn).padStart(8, '0');
  const newPool = async (entries: { city?: string; areaCode?: string }[]) => {
    const poolKey = `HW${++np}`;
    await store.upsertPool(poolKey, { name: `hw pool ${np}`, strictCity: false });
    const xs = entries.map(() => newX());
    await store.addNumbers(
      poolKey,
      xs.map((number, i) => ({ number, city: entries[i]!.city ?? '深圳', ...(entries[i]!.areaCode ? { areaCode: entries[i]!.areaCode } : {}) })),
    );
    return { poolKey, xs };
  };
  const req = async (poolKey: string, over: Partial<BindRequest> = {}): Promise<BindRequest> => ({
    mode: 'AX',
    poolKey,
    a: newNum(),
    expiresAt: (await redisNow(redis)) + 3600,
    recording: false,
    callDisplayType: 1,
    huawei: { appKey: 'app-1' },
    ...over,
  });

  beforeAll(async () => {
    backend = await kind.start();
    redis = await backend.connect();
    store = new RedisBindingStore(redis, { poolCacheMs: 200 });
    hw = new HuaweiStore(store);
  }, 150_000);
  afterAll(async () => {
    await store?.close();
    await backend?.stop();
  });

  describe.skipIf(!kind.available)('area codes', () => {
    it('pool numbers keep their area code; strict areaCode picks only those, none of that code: none', async () => {
      const { poolKey, xs } = await newPool([{ areaCode: '0755' }, { areaCode: '0755' }, { city: '北京', areaCode: '010' }, { city: '广州' }]);
      expect(await redis.hget(xKeys(xs[0]!)[0], 'ac')).toBe('0755');
      expect(await redis.hget(xKeys(xs[3]!)[0], 'ac')).toBeNull();
      const picked = new Set<string>();
      for (let i = 0; i < 8; i++) picked.add((await store.bind(await req(poolKey, { mode: 'AXB', b: newNum(), areaCode: '0755' }))).x);
      expect([...picked].sort()).toEqual([xs[0], xs[1]].sort());
      expect((await store.bind(await req(poolKey, { mode: 'AXB', b: newNum(), areaCode: '010', areaMatch: 'strict' }))).x).toBe(xs[2]);
      // strict: no number of that area code
      const none = await rejection(store.bind(await req(poolKey, { areaCode: '020' })));
      expect(none.code).toBe('isv.NO_AVAILABLE_NUMBER');
      // relaxed with an area code no number has: any number of the pool
      expect(xs).toContain((await store.bind(await req(poolKey, { mode: 'AXB', b: newNum(), areaCode: '020', areaMatch: 'relaxed' }))).x);
    });

    it('relaxed areaMatchMode falls back to any number once that area code has none free; strict does not', async () => {
      const { poolKey, xs } = await newPool([{ areaCode: '0755' }, { city: '北京', areaCode: '010' }]);
      const first = await store.bind(await req(poolKey, { areaCode: '0755' }));
      expect(first.x).toBe(xs[0]);
      const strict = await rejection(store.bind(await req(poolKey, { areaCode: '0755', areaMatch: 'strict' })));
      expect(strict.code).toBe('isv.NO_AVAILABLE_NUMBER');
      expect((await store.bind(await req(poolKey, { areaCode: '0755', areaMatch: 'relaxed' }))).x).toBe(xs[1]);
    });

    it('adding a number again gives it an area code (city unchanged); a bad area code writes nothing', async () => {
      const { poolKey, xs } = await newPool([{ city: '深圳' }]);
      expect(await store.addNumbers(poolKey, [{ number: xs[0]!, city: '别处', areaCode: '0755' }])).toEqual({ added: 0, existing: 1, conflicts: [] });
      expect(await redis.hmget(xKeys(xs[0]!)[0], 'c', 'ac')).toEqual(['深圳', '0755']);
      expect((await store.bind(await req(poolKey, { areaCode: '0755' }))).x).toBe(xs[0]);
      const x = newX();
      const bad = await rejection(store.addNumbers(poolKey, [{ number: x, city: '深圳', areaCode: '07a5' }]));
      expect(bad.code).toBe('isv.ILLEGAL_ARGUMENT');
      expect(await redis.exists(xKeys(x)[0])).toBe(0);
    });
  });

  describe.skipIf(!kind.available)('area codes after a crash', () => {
    it('reconcile re-adds a lost pool hint with its area code; getPool counts area codes', async () => {
      const { poolKey, xs } = await newPool([{ areaCode: '0755' }, {}]);
      expect(await store.getPool(poolKey)).toMatchObject({ numbers: 2, byAreaCode: { '0755': 1 } });
      await redis.hdel(poolNumbersKey(poolKey), xs[0]!);
      for (let i = 0; i < 50 && (await redis.hget(poolNumbersKey(poolKey), xs[0]!)) === null; i++) await store.reconcile(5000);
      expect(await redis.hget(poolNumbersKey(poolKey), xs[0]!)).toBe(poolHint('深圳', '0755'));
      await new Promise((r) => setTimeout(r, 250)); // the pool cache (200 ms) reloads the hints
      expect((await store.bind(await req(poolKey, { areaCode: '0755' }))).x).toBe(xs[0]);
    });
  });

  describe.skipIf(!kind.available)('Huawei fields', () => {
    it('are stored at bind, read back, modified field by field and cleared', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const b = await store.bind(
        await req(poolKey, {
          huawei: { appKey: 'app-1', maxDuration: 30, lastMinVoice: 'last', recordHintTone: 'hint', privateSms: true, userData: 'u1', callerHintTone: 'c1', calleeHintTone: 'c2', calleeNumDisplay: '0' },
        }),
      );
      expect(b.x).toBe(xs[0]);
      const got = await store.get(poolKey, b.x, b.subsId);
      expect(got?.huawei).toEqual({ appKey: 'app-1', maxDuration: 30, lastMinVoice: 'last', recordHintTone: 'hint', privateSms: true, userData: 'u1', callerHintTone: 'c1', calleeHintTone: 'c2', calleeNumDisplay: '0' });
      // two modifies of different fields at once: neither undoes the other
      await Promise.all([store.update(poolKey, b.x, b.subsId, { huawei: { userData: 'u2' } }), store.update(poolKey, b.x, b.subsId, { huawei: { maxDuration: 0, lastMinVoice: null } })]);
      expect((await store.get(poolKey, b.x, b.subsId))?.huawei).toEqual({ appKey: 'app-1', maxDuration: 0, recordHintTone: 'hint', privateSms: true, userData: 'u2', callerHintTone: 'c1', calleeHintTone: 'c2', calleeNumDisplay: '0' });
      // control characters would break the record: refused, nothing written
      const bad = await rejection(store.update(poolKey, b.x, b.subsId, { huawei: { userData: 'a\x1fb' } }));
      expect(bad.code).toBe('isv.ILLEGAL_ARGUMENT');
      expect((await store.get(poolKey, b.x, b.subsId))?.huawei?.userData).toBe('u2');
    });
  });

  describe.skipIf(!kind.available)('AX temporary callee', () => {
    it('A dialling X reaches the temporary callee until it expires; others reach A throughout', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const b = await store.bind(await req(poolKey));
      const x = xs[0]!;
      const other = newNum();
      // none set yet: A calling its own X is refused (Huawei 8013)
      expect(decide({ caller: b.a, x }, await store.lookup(b.a, x))).toMatchObject({ kind: 'refuse', reason: 'self-call' });
      const callee = newNum();
      const now = await redisNow(redis);
      await store.update(poolKey, x, b.subsId, { huawei: { tempCallee: { number: callee, expiresAt: now + 2, userData: 'tc1' } } });
      const found = await store.lookup(b.a, x);
      expect(found).toMatchObject({ kind: 'match', role: 'A', binding: { huawei: { tempCallee: { number: callee, userData: 'tc1' } } } });
      expect(decide({ caller: b.a, x }, found)).toMatchObject({ kind: 'bridge', target: callee, callType: 0 });
      expect(decide({ caller: other, x }, await store.lookup(other, x))).toMatchObject({ kind: 'bridge', target: b.a, callType: 1 });
      // a new one overwrites the previous one
      const callee2 = newNum();
      await store.update(poolKey, x, b.subsId, { huawei: { tempCallee: { number: callee2, expiresAt: now + 2 } } });
      expect(decide({ caller: b.a, x }, await store.lookup(b.a, x))).toMatchObject({ kind: 'bridge', target: callee2 });
      // past its expiry second by Redis's clock: refused again
      while ((await redisNow(redis)) < now + 2) await new Promise((r) => setTimeout(r, 100));
      expect(decide({ caller: b.a, x }, await store.lookup(b.a, x))).toMatchObject({ kind: 'refuse', reason: 'self-call' });
      expect(decide({ caller: other, x }, await store.lookup(other, x))).toMatchObject({ kind: 'bridge', target: b.a });
    });

    it('a conflict names its rule: X taken by another A (busy), by another mode (mode)', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const x = xs[0]!;
      const b = await store.bind(await req(poolKey, { x }));
      const busy = await rejection(store.bind(await req(poolKey, { x })));
      expect([busy.code, busy.rule]).toEqual(['isv.BIND_CONFLICT', 'busy']);
      const same = await rejection(store.bind(await req(poolKey, { x, a: b.a })));
      expect(same.rule).toBe('busy');
      const mode = await rejection(store.bind(await req(poolKey, { x, mode: 'AXE' })));
      expect(mode.rule).toBe('mode');
      expect((await hw.byNumber(poolKey, x, b.a))?.subsId).toBe(b.subsId);
      expect(await hw.byNumber(poolKey, x, newNum())).toBeUndefined();
      expect(await hw.byNumber('other-pool', x, b.a)).toBeUndefined();
    });

    it('finds the X an A holds through the hint, dropping hints of bindings gone', async () => {
      const { poolKey, xs } = await newPool([{}, {}, {}]);
      const a = newNum();
      const bs = [];
      for (const x of xs) {
        const b = await store.bind(await req(poolKey, { x, a }));
        await hw.noteAxOwner(a, b.x);
        bs.push(b);
      }
      expect((await hw.axBindingsOf(poolKey, a)).map((b) => b.x).sort()).toEqual([...xs].sort());
      await store.unbind(poolKey, xs[1]!, bs[1]!.subsId);
      expect((await hw.axBindingsOf(poolKey, a)).map((b) => b.x).sort()).toEqual([xs[0], xs[2]].sort());
      expect((await redis.smembers(axOwnerKey(a))).sort()).toEqual([xs[0], xs[2]].sort());
      expect(await hw.axBindingsOf('other-pool', a)).toEqual([]);
    });
  });

  describe.skipIf(!kind.available)('AXE extensions', () => {
    it('1-4 digits given; auto-allocated ones never begin with, nor are begun by, a live one', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const x = xs[0]!;
      const axe = (over: Partial<BindRequest> = {}) => req(poolKey, { mode: 'AXE', x, ...over });
      for (const e of ['1', '23', '456', '7890']) expect((await store.bind(await axe({ extension: e }))).extension).toBe(e);
      const taken = await rejection(store.bind(await axe({ extension: '23' })));
      expect([taken.code, taken.rule]).toEqual(['isv.BIND_CONFLICT', 'ext']);
      const got: string[] = [];
      for (let i = 0; i < 60; i++) got.push((await store.bind(await axe())).extension!);
      expect(new Set(got).size).toBe(60);
      for (const e of got) {
        expect(e).toMatch(/^\d{3}$/);
        expect(e.startsWith('1') || e.startsWith('23') || e === '789', e).toBe(false);
      }
      expect((await hw.byExtension(poolKey, x, '7890'))?.extension).toBe('7890');
      expect((await hw.byExtension(poolKey, x, got[0]!))?.extension).toBe(got[0]);
      expect(await hw.byExtension(poolKey, x, '12345')).toBeUndefined();
    });

    it('once every 3-digit extension is taken, 4 digits; the one A per X rule names its rule', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const x = xs[0]!;
      const now = await redisNow(redis);
      const mk = (): BindRequest => ({ mode: 'AXE', poolKey, x, a: newNum(), expiresAt: now + 3600, recording: false, callDisplayType: 1, huawei: { appKey: 'app-1' } });
      const three = await Promise.all(Array.from({ length: 900 }, () => store.bind(mk())));
      expect(new Set(three.map((b) => b.extension)).size).toBe(900);
      expect(three.every((b) => /^\d{3}$/.test(b.extension!))).toBe(true);
      const four = await store.bind(mk());
      expect(four.extension).toMatch(/^\d{4}$/);
      const dup = await rejection(store.bind({ ...mk(), a: four.a }));
      expect(dup.rule).toBe('a');
      // the prompt now collects up to 4 digits
      expect(await store.lookup(newNum(), x)).toMatchObject({ kind: 'need-extension', extensionDigits: 4 });
    }, 60_000);

    it('pages X\'s live bindings in SubsId order with a total and a more flag', async () => {
      const { poolKey, xs } = await newPool([{}]);
      const x = xs[0]!;
      const made = [];
      for (let i = 0; i < 7; i++) made.push(await store.bind(await req(poolKey, { mode: 'AXE', x })));
      await store.unbind(poolKey, x, made[2]!.subsId);
      const live = made.filter((_, i) => i !== 2).map((b) => b.subsId);
      const p1 = await hw.page(poolKey, x, 0, 4);
      expect(p1.bindings.map((b) => b.subsId)).toEqual(live.slice(0, 4));
      expect([p1.total, p1.more]).toEqual([6, true]);
      const last = Number(p1.bindings[3]!.subsId.slice(-9));
      const p2 = await hw.page(poolKey, x, last, 4);
      expect(p2.bindings.map((b) => b.subsId)).toEqual(live.slice(4));
      expect(p2.more).toBe(false);
      expect(p2.bindings[0]?.huawei?.appKey).toBe('app-1');
      expect(await hw.page('other-pool', x, 0, 4)).toEqual({ bindings: [], total: 0, more: false });
    });
  });
});
