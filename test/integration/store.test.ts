// RedisBindingStore against real Redis: every invariant, each mode's lookup table, expiry at the
// second, the sweep, pools and inventory, concurrency. The same suite runs on a standalone
// redis-server and on a 3-master Redis Cluster with replicas (issue 7 §2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { XlineError } from '../../src/domain/errors.js';
import { decide } from '../../src/domain/route.js';
import { DUE_SHARDS, dueKey, dueShard, inventoryKey, parseSubsId, poolNumbersKey, xKeys } from '../../src/store/codec.js';
import { RedisBindingStore } from '../../src/store/redis-store.js';
import { NonceReplayError, type BindRequest, type NonceClaim } from '../../src/store/types.js';
import { backends, type Backend } from '../support/store-backends.js';

/** Rejects with an XlineError of this code. */
async function expectCode(p: Promise<unknown>, code: string) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(XlineError);
  expect((e as XlineError).code).toBe(code);
}

async function redisNow(redis: Redis | Cluster): Promise<number> {
  // TIME has no key; on a Cluster any node's clock is the same machine's clock here
  const t = (await (redis as Redis).call('TIME')) as string[];
  return Number(t[0]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('RedisBindingStore on $name', (kind) => {
  let backend: Backend;
  let redis: Redis | Cluster;
  let store: RedisBindingStore;
  let nx = 0;
  let nn = 0;
  let np = 0;
  /** Fresh numbers and pools per test: the suite shares one Redis. */
  const newX = () => '171' + String(++nx).padStart(8, '0');
  const newNum = () => '138' + String(++nn).padStart(8, '0');
  const newPool = async (xs: string[] | number, opts: { strictCity?: boolean; city?: string | ((i: number) => string) } = {}) => {
    const poolKey = `FC${++np}`;
    await store.upsertPool(poolKey, { name: `pool ${np}`, strictCity: opts.strictCity ?? false });
    const list = typeof xs === 'number' ? Array.from({ length: xs }, newX) : xs;
    const city = opts.city ?? '杭州';
    await store.addNumbers(
      poolKey,
      list.map((number, i) => ({ number, city: typeof city === 'function' ? city(i) : city })),
    );
    return { poolKey, xs: list };
  };
  const req = async (poolKey: string, over: Partial<BindRequest> = {}): Promise<BindRequest> => ({
    mode: 'AXB',
    poolKey,
    a: newNum(),
    b: newNum(),
    expiresAt: (await redisNow(redis)) + 3600,
    recording: false,
    callDisplayType: 1,
    ...over,
  });

  beforeAll(async () => {
    backend = await kind.start();
    redis = await backend.connect();
    store = new RedisBindingStore(redis, { poolCacheMs: 200 });
  }, 150_000);
  afterAll(async () => {
    await store?.close();
    await backend?.stop();
  });

  describe.skipIf(!kind.available)('pools and inventory', () => {
    it('creates pools and counts numbers, numbers in use, bindings and cities exactly', async () => {
      const { poolKey, xs } = await newPool(4, { city: (i) => (i < 3 ? '杭州' : '北京') });
      expect(await store.listPools()).toContain(poolKey);
      await store.bind(await req(poolKey, { x: xs[0] }));
      await store.bind(await req(poolKey, { x: xs[0] }));
      await store.bind(await req(poolKey, { x: xs[3], mode: 'AXN', b: undefined }));
      const info = await store.getPool(poolKey);
      expect(info).toMatchObject({ poolKey, numbers: 4, numbersInUse: 2, bindings: 3, byCity: { 杭州: 3, 北京: 1 }, strictCity: false });
      expect(await store.getPool('NOPE-' + poolKey)).toBeUndefined();
    });

    it('updates pool settings in place', async () => {
      const { poolKey } = await newPool(1);
      await store.upsertPool(poolKey, { name: 'renamed', strictCity: true, ringConfig: { AXBRing_A: 't1' } });
      expect(await store.getPool(poolKey)).toMatchObject({ name: 'renamed', strictCity: true, ringConfig: { AXBRing_A: 't1' }, numbers: 1 });
    });

    it('reports numbers of another pool as conflicts and does not move them', async () => {
      const p1 = await newPool(2);
      const p2 = await newPool(1);
      const r = await store.addNumbers(p2.poolKey, [
        { number: p1.xs[0]!, city: '杭州' },
        { number: p2.xs[0]!, city: '杭州' },
        { number: newX(), city: '杭州' },
      ]);
      expect(r).toEqual({ added: 1, existing: 1, conflicts: [p1.xs[0]] });
      expect((await store.getPool(p1.poolKey))!.numbers).toBe(2);
      expect((await store.getPool(p2.poolKey))!.numbers).toBe(2);
    });

    it('refuses bad numbers and unknown pools, writing nothing', async () => {
      const { poolKey } = await newPool(1);
      const x = newX();
      await expectCode(store.addNumbers(poolKey, [{ number: x, city: '杭州' }, { number: 'abc', city: '杭州' }]), 'isv.MOBILE_NUMBER_ILLEGAL');
      expect((await store.getPool(poolKey))!.numbers).toBe(1);
      await expectCode(store.addNumbers('NO-SUCH-POOL', [{ number: x, city: '杭州' }]), 'isv.POOLKEY_NOT_EXISTS');
      await expectCode(store.bind(await req('NO-SUCH-POOL')), 'isv.POOLKEY_NOT_EXISTS');
      // x was never claimed: another pool can take it
      expect((await store.addNumbers(poolKey, [{ number: x, city: '杭州' }])).added).toBe(1);
    });

    it('buys from inventory by city and prefix, releases back, refuses release while bound', async () => {
      const city = `城${np}`;
      const inv = ['17300000001', '17300000002', '17400000003'];
      expect(await store.addInventory(inv.map((number) => ({ number, city })))).toEqual({ added: 3, existing: 0, conflicts: [] });
      expect(await store.addInventory([{ number: inv[0]!, city }])).toMatchObject({ added: 0, existing: 1 });
      expect(await store.countInventory(city)).toBe(3);
      expect(await store.countInventory(city, '173')).toBe(2);
      expect(await store.countInventory(city, '1740')).toBe(1);
      const { poolKey } = await newPool([]);
      const got = await store.buyNumber(poolKey, city, '174');
      expect(got).toEqual({ number: '17400000003', city });
      expect(await store.countInventory(city)).toBe(2);
      await expectCode(store.buyNumber(poolKey, city, '174'), 'isv.NO_AVAILABLE_NUMBER');
      expect((await store.getPool(poolKey))!.numbers).toBe(1);
      // a number in a pool is not inventory
      expect((await store.addInventory([{ number: got.number, city }])).conflicts).toEqual([got.number]);

      const b = await store.bind(await req(poolKey, { mode: 'AX', b: undefined }));
      expect(b.x).toBe(got.number);
      await expectCode(store.releaseNumber(poolKey, got.number), 'isv.FORBIDDEN_ACTION');
      await store.unbind(poolKey, b.x, b.subsId);
      await store.releaseNumber(poolKey, got.number);
      expect(await store.countInventory(city, '174')).toBe(1);
      expect((await store.getPool(poolKey))!.numbers).toBe(0);
      await expectCode(store.releaseNumber(poolKey, got.number), 'isv.NO_NOT_EXIST');
      expect((await store.lookup(newNum(), got.number)).kind).toBe('none');
      await expectCode(store.bind(await req(poolKey, { x: got.number })), 'isv.NO_NOT_EXIST');
    });

    it('moves an inventory number named in addNumbers into the pool', async () => {
      const city = `移${np}`;
      const x = newX();
      await store.addInventory([{ number: x, city }]);
      const { poolKey } = await newPool([]);
      expect(await store.addNumbers(poolKey, [{ number: x, city }])).toEqual({ added: 1, existing: 0, conflicts: [] });
      expect(await store.countInventory(city)).toBe(0);
      expect((await store.getPool(poolKey))!.numbers).toBe(1);
      await expectCode(store.buyNumber(poolKey, city), 'isv.NO_AVAILABLE_NUMBER');
    });

    it('hands each inventory number to exactly one of many concurrent buyers', async () => {
      const city = `抢${np}`;
      await store.addInventory(Array.from({ length: 5 }, () => ({ number: newX(), city })));
      const { poolKey } = await newPool([]);
      const r = await Promise.allSettled(Array.from({ length: 20 }, () => store.buyNumber(poolKey, city)));
      const ok = r.filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<{ number: string }>).value.number);
      expect(ok).toHaveLength(5);
      expect(new Set(ok).size).toBe(5);
      expect(await store.countInventory(city)).toBe(0);
      expect((await store.getPool(poolKey))!.numbers).toBe(5);
    });
  });

  describe.skipIf(!kind.available)('round trips', () => {
    /** Commands the client sends while op runs (every command goes through sendCommand). */
    async function commandsOf(op: () => Promise<unknown>): Promise<string[]> {
      const c = redis as unknown as { sendCommand: (cmd: { name: string }) => unknown };
      const orig = c.sendCommand;
      const seen: string[] = [];
      c.sendCommand = function (this: unknown, cmd: { name: string }, ...rest: unknown[]) {
        seen.push(cmd.name);
        return (orig as (...a: unknown[]) => unknown).call(this, cmd, ...rest);
      };
      try {
        await op();
      } finally {
        c.sendCommand = orig;
      }
      return seen;
    }

    it('a lookup is one EVALSHA; a bind on a warm pool is one EVALSHA', async () => {
      const { poolKey, xs } = await newPool(1);
      const first = await store.bind(await req(poolKey));
      await store.lookup(first.a, xs[0]!); // scripts loaded on this connection / node
      for (const caller of [first.a, first.b!, newNum()]) {
        expect(await commandsOf(() => store.lookup(caller, xs[0]!))).toEqual(['evalsha']);
      }
      // expiring later than the X's earliest binding: nothing to tell the sweep index
      const later = await req(poolKey, { expiresAt: first.expiresAt + 10 });
      expect(await commandsOf(() => store.bind(later))).toEqual(['evalsha']);
    });

    it('a bind claims its SignatureNonce in its own EVALSHA (standalone); a reused nonce writes nothing', async () => {
      const { poolKey } = await newPool(2);
      const first = await store.bind(await req(poolKey));
      const nonce: NonceClaim = { key: `test:${kind.name}:${poolKey}`, ttlSeconds: 120 };
      const r1 = await req(poolKey, { expiresAt: first.expiresAt + 10 });
      expect(await commandsOf(() => store.bind(r1, { nonce }))).toEqual(['evalsha']);
      if (!store.bindClaimsNonce) {
        // Cluster: the nonce key is in another slot; the gateway claims it with its own SET
        expect(nonce.claimed).toBeUndefined();
        expect(kind.name).toMatch(/cluster/i);
        return;
      }
      expect(nonce.claimed).toBe(true);
      const ttl = await (redis as Redis).ttl(`nonce:${nonce.key}`);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
      const before = (await store.getPool(poolKey))!.bindings;
      const replay: NonceClaim = { key: nonce.key, ttlSeconds: 120 };
      await expect(store.bind(await req(poolKey), { nonce: replay })).rejects.toBeInstanceOf(NonceReplayError);
      expect(replay.claimed).toBe(true);
      expect((await store.getPool(poolKey))!.bindings).toBe(before);
      // a bind refused by its script (here: A already bound on that X) has used its nonce too
      const conflict: NonceClaim = { key: `${nonce.key}:2`, ttlSeconds: 120 };
      await expectCode(store.bind(await req(poolKey, { x: first.x, a: first.a }), { nonce: conflict }), 'isv.BIND_CONFLICT');
      expect(conflict.claimed).toBe(true);
      await expect(store.bind(await req(poolKey), { nonce: { key: conflict.key, ttlSeconds: 120 } })).rejects.toBeInstanceOf(NonceReplayError);
    });
  });

  describe.skipIf(!kind.available)('AXB', () => {
    it('routes A to B and B to A; strangers are refused; unknown X is none', async () => {
      const { poolKey } = await newPool(1);
      const b = await store.bind(await req(poolKey));
      expect(parseSubsId(b.subsId)).toEqual({ x: b.x, seq: expect.any(String) });
      const la = await store.lookup(b.a, b.x);
      expect(la).toMatchObject({ kind: 'match', role: 'A', binding: { subsId: b.subsId, a: b.a, b: b.b, mode: 'AXB', poolKey } });
      expect(decide({ caller: b.a, x: b.x }, la)).toMatchObject({ kind: 'bridge', target: b.b });
      expect(await store.lookup(b.b!, b.x)).toMatchObject({ kind: 'match', role: 'B' });
      expect(await store.lookup(newNum(), b.x)).toEqual({ kind: 'stranger' });
      expect(await store.lookup(b.a, newX())).toEqual({ kind: 'none' });
      await store.unbind(poolKey, b.x, b.subsId);
      expect(await store.lookup(b.a, b.x)).toEqual({ kind: 'none' });
      expect(await store.lookup(newNum(), b.x)).toEqual({ kind: 'none' });
      await expectCode(store.unbind(poolKey, b.x, b.subsId), 'isv.SUBS_NOT_EXIST');
    });

    it('keeps (X,A) and (X,B) unique: a number appears once per X, as A or as B', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const b1 = await store.bind(await req(poolKey, { x }));
      await expectCode(store.bind(await req(poolKey, { x, a: b1.a })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { x, b: b1.b })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { x, a: b1.b })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { x, b: b1.a })), 'isv.BIND_CONFLICT');
      // no X specified and the only X conflicts
      await expectCode(store.bind(await req(poolKey, { a: b1.a })), 'isv.NO_AVAILABLE_NUMBER');
      // other pairs share the X
      const b2 = await store.bind(await req(poolKey, { x }));
      expect(b2.x).toBe(x);
      expect(b2.subsId).not.toBe(b1.subsId);
      expect((await store.getPool(poolKey))!.bindings).toBe(2);
    });

    it('gives one A as many bindings as the pool has X, on distinct X', async () => {
      const { poolKey, xs } = await newPool(3);
      const a = newNum();
      const got = [];
      for (let i = 0; i < 3; i++) got.push((await store.bind(await req(poolKey, { a }))).x);
      expect(new Set(got)).toEqual(new Set(xs));
      await expectCode(store.bind(await req(poolKey, { a })), 'isv.NO_AVAILABLE_NUMBER');
    });

    it('updates: numbers with uniqueness (UPDATE_CONFLICT), expiry, restrictions, fields', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const b1 = await store.bind(await req(poolKey, { x, outId: 'order-1', recording: true }));
      const b2 = await store.bind(await req(poolKey, { x }));
      await expectCode(store.update(poolKey, x, b1.subsId, { b: b2.a }), 'isv.UPDATE_CONFLICT');
      await expectCode(store.update(poolKey, x, b1.subsId, { a: b2.b }), 'isv.UPDATE_CONFLICT');
      await expectCode(store.update(poolKey, x, b1.subsId, { b: b1.a }), 'isv.UPDATE_CONFLICT');
      const nb = newNum();
      const u = await store.update(poolKey, x, b1.subsId, { b: nb });
      expect(u).toMatchObject({ subsId: b1.subsId, a: b1.a, b: nb, outId: 'order-1', recording: true });
      expect(await store.lookup(nb, x)).toMatchObject({ kind: 'match', role: 'B' });
      expect(await store.lookup(b1.b!, x)).toEqual({ kind: 'stranger' });
      // the freed number can be bound again on X
      await store.bind(await req(poolKey, { x, a: b1.b }));
      // swap A and B of one binding in one update
      const sw = await store.update(poolKey, x, b2.subsId, { a: b2.b, b: b2.a });
      expect(sw).toMatchObject({ a: b2.b, b: b2.a });
      expect(await store.lookup(b2.a, x)).toMatchObject({ kind: 'match', role: 'B' });

      const exp = (await redisNow(redis)) + 7200;
      expect((await store.update(poolKey, x, b1.subsId, { expiresAt: exp })).expiresAt).toBe(exp);
      await expectCode(store.update(poolKey, x, b1.subsId, { expiresAt: (await redisNow(redis)) - 1 }), 'isv.EXPIRE_DATE_ILLEGAL');
      expect((await store.update(poolKey, x, b1.subsId, { callRestrict: 'CONTROL_AX_DISABLE' })).callRestrict).toBe('CONTROL_AX_DISABLE');
      const restricted = await store.lookup(b1.a, x);
      expect(decide({ caller: b1.a, x }, restricted)).toMatchObject({ kind: 'refuse', status: 403, reason: 'call-restricted' });
      expect((await store.update(poolKey, x, b1.subsId, { clearCallRestrict: true })).callRestrict).toBeUndefined();
      const f = await store.update(poolKey, x, b1.subsId, {
        outId: 'o|2 with spaces',
        recording: false,
        callDisplayType: 2,
        ringConfig: { AXBRing_A: 'r1' },
        asrStatus: true,
        asrModelId: 'm1',
      });
      expect(f).toMatchObject({ outId: 'o|2 with spaces', recording: false, callDisplayType: 2, ringConfig: { AXBRing_A: 'r1' }, asrStatus: true, asrModelId: 'm1' });
      expect(await store.get(poolKey, x, b1.subsId)).toEqual(f);
      await expectCode(store.update(poolKey, x, x + '000009999', { outId: 'z' }), 'isv.SUBS_NOT_EXIST');
      await expectCode(store.update(poolKey, x, 'garbage', { outId: 'z' }), 'isv.SUBS_NOT_EXIST');
      const other = await newPool(1);
      await expectCode(store.update(other.poolKey, x, b1.subsId, { outId: 'z' }), 'isv.NO_NOT_EXIST');
    });

    it('finds SubsIds by number, and gets bindings only in their own pool', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const b = await store.bind(await req(poolKey, { x, outOrderId: 'oo', expectCity: '杭州', ringConfig: { AXBRing_B: 't' } }));
      expect(await store.findSubsId(poolKey, x, b.a)).toBe(b.subsId);
      expect(await store.findSubsId(poolKey, x, b.b!)).toBe(b.subsId);
      expect(await store.findSubsId(poolKey, x, newNum())).toBeUndefined();
      expect(await store.get(poolKey, x, b.subsId)).toEqual(b);
      expect(await store.get(poolKey, '', b.subsId)).toEqual(b);
      expect(await store.get(poolKey, newX(), b.subsId)).toBeUndefined();
      expect(await store.get('other', x, b.subsId)).toBeUndefined();
    });
  });

  describe.skipIf(!kind.available)('AXN, AX and the one-mode-per-X rule', () => {
    it('AXN: X is exclusive; A goes to its default B, anyone else to A', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const n = await store.bind(await req(poolKey, { mode: 'AXN' }));
      expect(n.x).toBe(x);
      await expectCode(store.bind(await req(poolKey, { mode: 'AXN' })), 'isv.NO_AVAILABLE_NUMBER');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXN', x })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXB', x })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AX', x, b: undefined })), 'isv.BIND_CONFLICT');
      expect(await store.lookup(n.a, x)).toMatchObject({ kind: 'match', role: 'A', binding: { subsId: n.subsId } });
      const anyone = newNum();
      const l = await store.lookup(anyone, x);
      expect(l).toMatchObject({ kind: 'match', role: 'N' });
      expect(decide({ caller: anyone, x }, l)).toMatchObject({ kind: 'bridge', target: n.a });
      expect(await store.findSubsId(poolKey, x)).toBe(n.subsId);
      expect(await store.findSubsId(poolKey, x, n.b)).toBe(n.subsId);
      // once unbound, X takes any mode
      await store.unbind(poolKey, x, n.subsId);
      const ab = await store.bind(await req(poolKey, { x }));
      expect(ab.mode).toBe('AXB');
      expect(await store.lookup(newNum(), x)).toEqual({ kind: 'stranger' });
    });

    it('AX: one A owns X; every caller reaches A', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const b = await store.bind(await req(poolKey, { mode: 'AX', b: undefined }));
      await expectCode(store.bind(await req(poolKey, { mode: 'AX', b: undefined, x })), 'isv.BIND_CONFLICT');
      const caller = newNum();
      expect(decide({ caller, x }, await store.lookup(caller, x))).toMatchObject({ kind: 'bridge', target: b.a });
      expect(await store.lookup(b.a, x)).toMatchObject({ kind: 'match', role: 'A' });
      await expectCode(store.bind(await req(poolKey, { mode: 'AX', b: '13800000000' })), 'isv.ILLEGAL_ARGUMENT');
    });
  });

  describe.skipIf(!kind.available)('AXN extension', () => {
    it('keeps (X, extension) and (X, A) unique; many A per X; lookup table', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const e1 = await store.bind(await req(poolKey, { mode: 'AXE', x, extension: '12' }));
      const e2 = await store.bind(await req(poolKey, { mode: 'AXE', x, b: undefined }));
      expect(e1.extension).toBe('12');
      expect(e2.extension).toMatch(/^\d{3}$/);
      await expectCode(store.bind(await req(poolKey, { mode: 'AXE', x, extension: '12' })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXE', x, a: e1.a })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXE', x, extension: e2.extension })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXB', x })), 'isv.BIND_CONFLICT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXN', x })), 'isv.BIND_CONFLICT');

      const stranger = newNum();
      // the longest extension on X (12 and an allocated 3-digit one): the prompt stops at 3 digits
      expect(await store.lookup(stranger, x)).toEqual({ kind: 'need-extension', poolKey, extensionDigits: 3 });
      expect(decide({ caller: stranger, x }, await store.lookup(stranger, x))).toEqual({ kind: 'collect', poolKey, extensionDigits: 3 });
      expect(await store.lookup(stranger, x, '12')).toMatchObject({ kind: 'match', role: 'N', binding: { subsId: e1.subsId } });
      expect(await store.lookup(stranger, x, e2.extension)).toMatchObject({ kind: 'match', role: 'N', binding: { subsId: e2.subsId } });
      expect(await store.lookup(stranger, x, '99')).toEqual({ kind: 'none' });
      expect(await store.lookup(stranger, x, 'abc')).toEqual({ kind: 'none' });
      // an A of a live binding goes straight to its default B, with or without digits
      expect(await store.lookup(e1.a, x)).toMatchObject({ kind: 'match', role: 'A', binding: { subsId: e1.subsId } });
      expect(decide({ caller: e1.a, x }, await store.lookup(e1.a, x))).toMatchObject({ kind: 'bridge', target: e1.b });
      expect(decide({ caller: e2.a, x }, await store.lookup(e2.a, x))).toMatchObject({ kind: 'refuse', status: 404, reason: 'no-default-b' });

      // the extension is free again after unbind
      await store.unbind(poolKey, x, e1.subsId);
      expect(await store.lookup(stranger, x, '12')).toEqual({ kind: 'none' });
      expect((await store.bind(await req(poolKey, { mode: 'AXE', x, extension: '12' }))).extension).toBe('12');
      await store.unbind(poolKey, x, e2.subsId);
      // a 4-digit (Huawei-style) extension raises it; unbinding never lowers it (a caller may
      // still be keying the longer one)
      const long = await store.bind(await req(poolKey, { mode: 'AXE', x, extension: '4321' }));
      expect(await store.lookup(stranger, x)).toMatchObject({ kind: 'need-extension', extensionDigits: 4 });
      await store.unbind(poolKey, x, long.subsId);
      expect(await store.lookup(stranger, x)).toMatchObject({ kind: 'need-extension', extensionDigits: 4 });
      // updateNoA keeps (X, A) unique
      const e3 = await store.bind(await req(poolKey, { mode: 'AXE', x, extension: '7' }));
      const e4 = await store.bind(await req(poolKey, { mode: 'AXE', x, extension: '8' }));
      await expectCode(store.update(poolKey, x, e3.subsId, { a: e4.a }), 'isv.UPDATE_CONFLICT');
    });

    it('allocates distinct extensions under concurrency', async () => {
      const { poolKey, xs } = await newPool(1);
      const r = await Promise.all(Array.from({ length: 50 }, async () => store.bind(await req(poolKey, { mode: 'AXE', x: xs[0] }))));
      expect(new Set(r.map((b) => b.extension)).size).toBe(50);
      for (const b of r.slice(0, 5)) expect(await store.lookup(newNum(), b.x, b.extension)).toMatchObject({ kind: 'match', binding: { subsId: b.subsId } });
    });
  });

  describe.skipIf(!kind.available)('ExpectCity', () => {
    it('strict: only that city, else NO_AVAILABLE_NUMBER; relaxed: prefers it, falls back', async () => {
      const strict = await newPool(2, { strictCity: true, city: (i) => (i === 0 ? '杭州' : '北京') });
      for (let i = 0; i < 5; i++) expect((await store.bind(await req(strict.poolKey, { expectCity: '杭州' }))).x).toBe(strict.xs[0]);
      await expectCode(store.bind(await req(strict.poolKey, { expectCity: '上海' })), 'isv.NO_AVAILABLE_NUMBER');
      const relaxed = await newPool(2, { strictCity: false, city: (i) => (i === 0 ? '杭州' : '北京') });
      for (let i = 0; i < 5; i++) expect((await store.bind(await req(relaxed.poolKey, { expectCity: '北京' }))).x).toBe(relaxed.xs[1]);
      const a = newNum();
      expect((await store.bind(await req(relaxed.poolKey, { a, expectCity: '北京' }))).x).toBe(relaxed.xs[1]);
      // 北京's only X has a: relaxed falls back to 杭州
      expect((await store.bind(await req(relaxed.poolKey, { a, expectCity: '北京' }))).x).toBe(relaxed.xs[0]);
      expect((await store.bind(await req(relaxed.poolKey, { expectCity: '上海' }))).x).toMatch(/^171/);
    });
  });

  describe.skipIf(!kind.available)('bad input', () => {
    it('refuses with clear codes and writes nothing', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      await expectCode(store.bind(await req(poolKey, { a: '12ab' })), 'isv.MOBILE_NUMBER_ILLEGAL');
      await expectCode(store.bind(await req(poolKey, { b: '' })), 'isv.MOBILE_NUMBER_ILLEGAL');
      const a = newNum();
      await expectCode(store.bind(await req(poolKey, { a, b: a })), 'isv.ILLEGAL_ARGUMENT');
      await expectCode(store.bind(await req(poolKey, { expiresAt: (await redisNow(redis)) - 1 })), 'isv.EXPIRE_DATE_ILLEGAL');
      await expectCode(store.bind(await req(poolKey, { expiresAt: 1.5 })), 'isv.EXPIRE_DATE_ILLEGAL');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXE', extension: '12345' })), 'isv.ILLEGAL_ARGUMENT');
      await expectCode(store.bind(await req(poolKey, { mode: 'AXB', extension: '1' })), 'isv.ILLEGAL_ARGUMENT');
      await expectCode(store.bind(await req(poolKey, { outId: 'bad\x1fvalue' })), 'isv.ILLEGAL_ARGUMENT');
      await expectCode(store.bind(await req(poolKey, { mode: 'XYZ' as 'AXB' })), 'isv.ILLEGAL_ARGUMENT');
      expect((await store.getPool(poolKey))!.bindings).toBe(0);
      expect(await store.lookup(newNum(), x)).toEqual({ kind: 'none' });
      expect(await store.lookup('', '')).toEqual({ kind: 'none' });
    });
  });

  describe.skipIf(!kind.available)('expiry', () => {
    it('stops routing at the expiry second, by Redis time', async () => {
      const { poolKey, xs } = await newPool(1);
      const x = xs[0]!;
      const t0 = await redisNow(redis);
      const b = await store.bind(await req(poolKey, { x, expiresAt: t0 + 2 }));
      const p2 = await newPool(1);
      const e = await store.bind(await req(p2.poolKey, { mode: 'AXN', expiresAt: t0 + 2 }));
      // every lookup is bracketed by Redis TIME: live only before the expiry second, dead from it on
      let sawLastSecond = false;
      let sawDead = false;
      for (let i = 0; i < 400 && !sawDead; i++) {
        const before = await redisNow(redis);
        const l = await store.lookup(b.a, x);
        const after = await redisNow(redis);
        if (l.kind === 'match') {
          expect(before).toBeLessThan(b.expiresAt);
          if (after === b.expiresAt - 1) sawLastSecond = true;
        } else {
          expect(l).toEqual({ kind: 'none' });
          expect(after).toBeGreaterThanOrEqual(b.expiresAt);
          sawDead = true;
        }
        await sleep(10);
      }
      expect(sawLastSecond).toBe(true);
      expect(sawDead).toBe(true);
      // expired: not returned by any read, not counted, and no longer blocks its numbers
      expect(await store.lookup(e.a, e.x)).toEqual({ kind: 'none' });
      expect(await store.get(poolKey, x, b.subsId)).toBeUndefined();
      expect(await store.findSubsId(poolKey, x, b.a)).toBeUndefined();
      expect((await store.getPool(poolKey))!.bindings).toBe(0);
      await expectCode(store.unbind(poolKey, x, b.subsId), 'isv.SUBS_NOT_EXIST');
      const again = await store.bind(await req(poolKey, { x, a: b.a, b: b.b }));
      expect(await store.lookup(b.b!, x)).toMatchObject({ kind: 'match', binding: { subsId: again.subsId } });
      // an expired AXN binding frees its X for another mode before any sweep
      expect((await store.bind(await req(p2.poolKey, { x: e.x, mode: 'AXE' }))).mode).toBe('AXE');
    });

    it('sweeps expired bindings in bounded batches and gives their memory back', async () => {
      const small = new RedisBindingStore(redis, { sweepBatch: 7, sweepPerX: 5 });
      const twin = new RedisBindingStore(await backend.connect(), { sweepBatch: 7, sweepPerX: 5 });
      await twin.sweep(); // its connection and scripts are part of the baseline
      const { poolKey, xs } = await newPool(24);
      // warm up: every script loaded on every node, earlier tests' due entries swept
      for (const x of xs) await store.unbind(poolKey, x, (await store.bind(await req(poolKey, { x }))).subsId);
      await store.sweep();
      // what the X's keys take (MEMORY USAGE: exact on both backends; used_memory of a replicated
      // master also moves with its replication buffers, so it is checked on standalone only)
      const keyMemory = async () => {
        let sum = 0;
        for (const x of xs) for (const k of xKeys(x)) sum += Number((await (redis as Redis).call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0);
        return sum;
      };
      // the slow log keeps arguments of slow commands (many on a busy machine): not binding memory
      const resetSlowlog = async () => {
        if (kind.name === 'standalone') await (redis as Redis).call('SLOWLOG', 'RESET');
      };
      await resetSlowlog();
      const before = await backend.usedMemory();
      const keysBefore = await keyMemory();
      const N = 3000;
      const made = [];
      let lastExpiry = 0;
      for (let i = 0; i < N; i += 500) {
        const t = await redisNow(redis);
        lastExpiry = t + 3;
        made.push(
          ...(await Promise.all(
            Array.from({ length: 500 }, async (_, j) =>
              store.bind(await req(poolKey, { x: xs[(i + j) % 24], expiresAt: t + 2 + ((i + j) % 2), outId: 'x'.repeat(40) })),
            ),
          )),
        );
      }
      const keep = await store.bind(await req(poolKey, { x: xs[0], expiresAt: (await redisNow(redis)) + 3600 }));
      expect(made).toHaveLength(N);
      const grown = (await backend.usedMemory()) - before;
      const keysGrown = (await keyMemory()) - keysBefore;
      expect(keysGrown).toBeGreaterThan(N * 100);
      // due entries exist for the 24 X
      const dueBefore = await Promise.all(Array.from({ length: DUE_SHARDS }, (_, s) => (redis as Redis).zrange(dueKey(s), 0, -1)));
      expect(dueBefore.flat().filter((x) => xs.includes(x)).sort()).toEqual([...xs].sort());
      while ((await redisNow(redis)) < lastExpiry + 1) await sleep(100);

      // bounded: one pass of a small sweeper removes at most 7 X per shard, 5 bindings per X
      const first = await small.sweep();
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(24 * 5);
      // two instances sweeping at once: every binding removed exactly once, nothing fails
      let total = first;
      for (let i = 0; i < 200 && total < N; i++) {
        const [p, q] = await Promise.all([small.sweep(), twin.sweep()]);
        total += p + q;
      }
      expect(total).toBe(N);
      expect(await small.sweep()).toBe(0);

      for (const x of xs) {
        const [, recs, nums, exps] = xKeys(x);
        const live = x === keep.x ? 1 : 0;
        expect(await (redis as Redis).hlen(recs)).toBe(live);
        expect(await (redis as Redis).zcard(exps)).toBe(live);
        expect(await (redis as Redis).hlen(nums)).toBe(live * 2);
      }
      expect(await store.lookup(keep.a, keep.x)).toMatchObject({ kind: 'match' });
      // memory back to within a fraction of what the bindings took
      expect((await keyMemory()) - keysBefore).toBeLessThan(keysGrown * 0.02);
      await resetSlowlog();
      if (kind.name === 'standalone') expect((await backend.usedMemory()) - before).toBeLessThan(grown * 0.2);
      // the X with the kept binding stays due at its expiry; the others left the index
      const left = (await Promise.all(Array.from({ length: DUE_SHARDS }, (_, s) => (redis as Redis).zrange(dueKey(s), 0, -1)))).flat();
      expect(left.filter((x) => xs.includes(x))).toEqual([keep.x]);
    });
  });

  describe.skipIf(!kind.available)('reconcile', () => {
    it('repairs the hints a crash between two steps of a multi-slot operation leaves', async () => {
      const { poolKey, xs } = await newPool(3);
      const city = `修${np}`;
      const inv = [newX(), newX()];
      await store.addInventory(inv.map((number) => ({ number, city })));
      const r = redis as Redis;
      // the leftovers: a claimed X without its pool hint, a stale pool hint, a lost inventory hint,
      // an inventory hint for a number nobody owns, a binding whose due entry never got written
      await r.hdel(poolNumbersKey(poolKey), xs[0]!);
      await r.hset(poolNumbersKey(poolKey), inv[0]!, city);
      await r.zrem(inventoryKey(city), inv[1]!);
      const ghost = newX();
      await r.zadd(inventoryKey(city), 0, ghost);
      const b = await store.bind(await req(poolKey, { x: xs[1], expiresAt: (await redisNow(redis)) + 2 }));
      await r.zrem(dueKey(dueShard(xs[1]!)), xs[1]!);
      expect((await store.getPool(poolKey))!.numbers).toBe(2);
      expect(await store.countInventory(city)).toBe(2);

      let cycle = { checked: 0, repaired: 0, done: false };
      for (let i = 0; i < 1000 && !cycle.done; i++) cycle = await store.reconcile(1000);
      expect(cycle.done).toBe(true);
      expect((await store.getPool(poolKey))!.numbers).toBe(3);
      expect(await r.hget(poolNumbersKey(poolKey), inv[0]!)).toBeNull();
      expect((await r.zrange(inventoryKey(city), 0, -1)).sort()).toEqual([...inv].sort());
      expect(Number(await r.zscore(dueKey(dueShard(xs[1]!)), xs[1]!))).toBe(b.expiresAt);
      // and the restored due entry lets the sweep reclaim the binding
      while ((await redisNow(redis)) < b.expiresAt) await sleep(100);
      await store.sweep();
      expect(await r.hlen(xKeys(xs[1]!)[1])).toBe(0);
    });
  });

  describe.skipIf(!kind.available)('concurrency', () => {
    it('100 concurrent binds with the same A on a pool of 5 X: exactly 5 succeed, on 5 distinct X', async () => {
      const { poolKey, xs } = await newPool(5);
      // two store instances, as two xline processes
      const other = new RedisBindingStore(await backend.connect());
      const a = newNum();
      const reqs = await Promise.all(Array.from({ length: 100 }, () => req(poolKey, { a })));
      const r = await Promise.allSettled(reqs.map((q, i) => (i % 2 ? store : other).bind(q)));
      const ok = r.filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<{ x: string; b?: string }>).value);
      const failed = r.filter((x) => x.status === 'rejected').map((x) => ((x as PromiseRejectedResult).reason as XlineError).code);
      expect(ok).toHaveLength(5);
      expect(new Set(ok.map((b) => b.x))).toEqual(new Set(xs));
      expect(new Set(failed)).toEqual(new Set(['isv.NO_AVAILABLE_NUMBER']));
      expect((await store.getPool(poolKey))!.bindings).toBe(5);
      for (const b of ok) expect(await store.lookup(a, b.x)).toMatchObject({ kind: 'match', role: 'A', binding: { b: b.b } });
    });

    it('concurrent binds on one X never share a number', async () => {
      const { poolKey, xs } = await newPool(1);
      const nums = Array.from({ length: 20 }, newNum);
      const r = await Promise.allSettled(
        Array.from({ length: 200 }, async (_, i) => store.bind(await req(poolKey, { a: nums[i % 20], b: nums[(i * 7 + 3) % 20] }))),
      );
      const ok = r.filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<{ a: string; b?: string }>).value);
      const used = ok.flatMap((b) => [b.a, b.b]);
      expect(new Set(used).size).toBe(used.length);
      expect(ok.length).toBeGreaterThan(0);
      expect((await store.getPool(poolKey))!.bindings).toBe(ok.length);
      expect(xs).toHaveLength(1);
    });
  });
});
