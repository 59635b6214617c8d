// Every dypls action and its error paths, through the HTTP layer (fastify inject), against a real
// redis-server and the real store, and again against a real 3-master Redis Cluster (per-X keys,
// pool and inventory indexes and nonces all on different nodes). Errors must write nothing: the
// store (every master's keys) is snapshotted around them. A backend whose binaries are missing is
// skipped with a banner naming them (test/support/binaries.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/store-backends.js';
import { aNo, bNo, expiration, makePool, ops, rpc, snapshot, startHarness, xNo, type Harness } from './api-harness.js';

describe.each(backends.filter((b) => b.available))('dypls actions on $name', (kind) => {
  let h: Harness;
  const POOL = 'FC100001';
  const EXT = 'FC_EXT';

  beforeAll(async () => {
    h = await startHarness({}, {}, { backend: kind.name });
    await makePool(h.app, POOL, 20, 0, '杭州');
    await makePool(h.app, 'FC_BJ', 2, 100, '北京');
    // AXN-extension X numbers apart: random AXB/AXN binds on POOL must not land on them first
    await makePool(h.app, EXT, 3, 300, '杭州');
  });
  afterAll(async () => h?.stop());

  async function bindAxb(a: number, b: number, extra: Record<string, string> = {}) {
    return rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(a), PhoneNoB: bNo(b), Expiration: expiration(3600), ...extra });
  }

  /** Runs `fn`, expects its answer code, and proves the store is byte-for-byte unchanged. */
  async function refusedWithoutWrites(fn: () => Promise<{ status: number; body: Record<string, any> }>, code: string, status = 200) {
    const before = await snapshot(h.redis);
    const r = await fn();
    expect(r.body.Code, JSON.stringify(r.body)).toBe(code);
    expect(r.status).toBe(status);
    expect(r.body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(await snapshot(h.redis)).toEqual(before);
    return r;
  }

  describe('BindAxb', () => {
    it('binds and answers SecretBindDTO with Alibaba field names', async () => {
      const r = await bindAxb(1, 1, { OutId: 'order-1', IsRecordingEnabled: 'true' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ Code: 'OK', Message: 'OK' });
      expect(r.body.RequestId).toMatch(/^[0-9A-F-]{36}$/);
      const dto = r.body.SecretBindDTO;
      expect(Object.keys(dto).sort()).toEqual(['SecretNo', 'SubsId']);
      expect(dto.SecretNo).toMatch(/^1709000\d{4}$/);
      const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: dto.SubsId, PhoneNoX: dto.SecretNo });
      expect(detail.body.Code).toBe('OK');
      expect(detail.body.SecretBindDetailDTO).toMatchObject({
        Status: 1,
        SubsId: dto.SubsId,
        PhoneNoA: aNo(1),
        PhoneNoB: bNo(1),
        PhoneNoX: dto.SecretNo,
        NeedRecord: true,
        ASRStatus: false,
        OutId: 'order-1',
      });
      expect(detail.body.SecretBindDetailDTO.ExpireDate).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(detail.body.SecretBindDetailDTO.GmtCreate).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(detail.body.SecretBindDetailDTO.CallRestrict).toBeUndefined();
    });

    it('accepts numbers in +86 / 86 / separated forms and stores them canonically', async () => {
      const r = await rpc(h.app, 'BindAxb', { PoolKey: POOL, PhoneNoA: '+86' + aNo(2), PhoneNoB: '86-' + bNo(2), Expiration: expiration(3600) });
      expect(r.body.Code).toBe('OK');
      const b = await h.ctx.store.get(POOL, r.body.SecretBindDTO.SecretNo, r.body.SecretBindDTO.SubsId);
      expect(b).toMatchObject({ a: aNo(2), b: bNo(2), mode: 'AXB' });
    });

    it('stores every optional parameter', async () => {
      const exp = expiration(7200);
      const r = await bindAxb(3, 3, {
        PhoneNoX: xNo(5),
        ExpectCity: '杭州',
        IsRecordingEnabled: 'false',
        OutId: 'o3',
        OutOrderId: 'oo3',
        CallDisplayType: '1',
        CallRestrict: 'CONTROL_BX_DISABLE',
        RingConfig: JSON.stringify({ AXBRing_A: '1001', AXBRing_B: '1002' }),
        ASRStatus: 'true',
        ASRModelId: '7ee372834d2f4cc7ac0d0ab2d0ae1aac',
        Expiration: exp,
      });
      expect(r.body.Code).toBe('OK');
      expect(r.body.SecretBindDTO.SecretNo).toBe(xNo(5));
      const b = await h.ctx.store.get(POOL, xNo(5), r.body.SecretBindDTO.SubsId);
      expect(b).toMatchObject({
        mode: 'AXB',
        a: aNo(3),
        b: bNo(3),
        x: xNo(5),
        recording: false,
        outId: 'o3',
        outOrderId: 'oo3',
        callDisplayType: 1,
        callRestrict: 'CONTROL_BX_DISABLE',
        ringConfig: { AXBRing_A: '1001', AXBRing_B: '1002' },
        asrStatus: true,
        asrModelId: '7ee372834d2f4cc7ac0d0ab2d0ae1aac',
      });
      const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: r.body.SecretBindDTO.SubsId, PhoneNoX: xNo(5) });
      expect(detail.body.SecretBindDetailDTO).toMatchObject({ CallRestrict: 'CONTROL_BX_DISABLE', ASRStatus: true, ExpireDate: exp });
    });

    it('honours ExpectCity', async () => {
      const r = await rpc(h.app, 'BindAxb', { PoolKey: 'FC_BJ', PhoneNoA: aNo(4), PhoneNoB: bNo(4), Expiration: expiration(3600), ExpectCity: '北京' });
      expect(r.body.Code).toBe('OK');
      expect([xNo(100), xNo(101)]).toContain(r.body.SecretBindDTO.SecretNo);
    });

    it('refuses a requested X that already pairs A (isv.BIND_CONFLICT) without writing', async () => {
      const first = await bindAxb(10, 10, { PhoneNoX: xNo(7) });
      expect(first.body.Code).toBe('OK');
      await refusedWithoutWrites(() => bindAxb(10, 11, { PhoneNoX: xNo(7) }), 'isv.BIND_CONFLICT');
    });

    it.each([
      ['PhoneNoA not a number', { PhoneNoA: 'abc' }, 'isv.MOBILE_NUMBER_ILLEGAL', 200],
      ['PhoneNoB not a number', { PhoneNoB: '12345' }, 'isv.MOBILE_NUMBER_ILLEGAL', 200],
      ['A equals B', { PhoneNoB: aNo(20) }, 'isv.INVALID_PARAMETERS', 200],
      ['Expiration in the past', { Expiration: expiration(-60) }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['Expiration less than a minute ahead', { Expiration: expiration(30) }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['Expiration badly formatted', { Expiration: '2030/01/01 00:00' }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['Expiration not a date', { Expiration: '2030-02-30 00:00:00' }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['OutId oversize', { OutId: 'x'.repeat(65) }, 'isv.INVALID_PARAMETERS', 200],
      ['OutOrderId oversize', { OutOrderId: 'x'.repeat(65) }, 'isv.INVALID_PARAMETERS', 200],
      ['OutId with a control character', { OutId: 'order\u0001id' }, 'isv.ILLEGAL_ARGUMENT', 200],
      ['ExpectCity with a control character', { ExpectCity: '杭\u0007州' }, 'isv.ILLEGAL_ARGUMENT', 200],
      ['ExpectCity oversize', { ExpectCity: '杭'.repeat(33) }, 'isv.INVALID_PARAMETERS', 200],
      ['RingConfig oversize', { RingConfig: JSON.stringify({ AXBRing_A: '1'.repeat(2000) }) }, 'isv.INVALID_PARAMETERS', 200],
      ['RingConfig not JSON', { RingConfig: '{AXBRing_A:1' }, 'isv.INVALID_PARAMETERS', 200],
      ['RingConfig with an AXN key', { RingConfig: '{"AXNRing_N":"1"}' }, 'isv.INVALID_PARAMETERS', 200],
      ['CallRestrict unknown', { CallRestrict: 'CONTROL_ALL' }, 'isv.INVALID_PARAMETERS', 200],
      ['IsRecordingEnabled not boolean', { IsRecordingEnabled: 'maybe' }, 'isv.INVALID_PARAMETERS', 200],
      ['CallDisplayType not a number', { CallDisplayType: 'x' }, 'isv.INVALID_PARAMETERS', 200],
      ['PoolKey unknown', { PoolKey: 'FC_NOPE' }, 'isv.POOLKEY_NOT_EXISTS', 200],
      ['PhoneNoX not in the pool', { PhoneNoX: xNo(100) }, 'isv.NO_NOT_EXIST', 200],
      ['PhoneNoX not a number', { PhoneNoX: 'x1' }, 'isv.MOBILE_NUMBER_ILLEGAL', 200],
      ['strict nothing: PoolKey missing', { PoolKey: undefined }, 'MissingPoolKey', 400],
      ['PhoneNoB missing', { PhoneNoB: undefined }, 'MissingPhoneNoB', 400],
      ['Expiration missing', { Expiration: undefined }, 'MissingExpiration', 400],
    ] as const)('%s → %s, nothing written', async (_name, change, code, status) => {
      const params: Record<string, string> = { PoolKey: POOL, PhoneNoA: aNo(20), PhoneNoB: bNo(20), Expiration: expiration(3600) };
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete params[k];
        else params[k] = v;
      }
      await refusedWithoutWrites(() => rpc(h.app, 'BindAxb', params), code, status);
    });
  });

  describe('BindAxn', () => {
    it('binds with and without a default B', async () => {
      const withB = await rpc(h.app, 'BindAxn', { PoolKey: POOL, PhoneNoA: aNo(30), PhoneNoB: bNo(30), Expiration: expiration(3600) });
      expect(withB.body.Code).toBe('OK');
      const withoutB = await rpc(h.app, 'BindAxn', {
        PoolKey: POOL,
        PhoneNoA: aNo(31),
        Expiration: expiration(3600),
        RingConfig: '{"AXNRing_A":"7","AXNRing_N":"8"}',
      });
      expect(withoutB.body.Code).toBe('OK');
      const b = await h.ctx.store.get(POOL, withoutB.body.SecretBindDTO.SecretNo, withoutB.body.SecretBindDTO.SubsId);
      expect(b).toMatchObject({ mode: 'AXN', a: aNo(31), ringConfig: { AXNRing_A: '7', AXNRing_N: '8' } });
      expect(b?.b).toBeUndefined();
    });

    it('refuses AXB ring keys', async () => {
      await refusedWithoutWrites(
        () => rpc(h.app, 'BindAxn', { PoolKey: POOL, PhoneNoA: aNo(32), Expiration: expiration(3600), RingConfig: '{"AXBRing_A":"1"}' }),
        'isv.INVALID_PARAMETERS',
      );
    });
  });

  describe('BindAxnExtension', () => {
    it('binds every parameter on a requested X and extension', async () => {
      const r = await rpc(h.app, 'BindAxnExtension', {
        PoolKey: EXT,
        PhoneNoA: aNo(40),
        PhoneNoB: bNo(40),
        PhoneNoX: xNo(300),
        Extension: '123',
        Expiration: expiration(3600),
        ExpectCity: '杭州',
        IsRecordingEnabled: 'true',
        OutId: 'ext-out',
        OutOrderId: 'ext-order',
        CallDisplayType: '1',
        RingConfig: JSON.stringify({ AXNRing_AB: '11', AXNRing_A: '12', AXNRing_N: '13' }),
        ASRStatus: 'false',
        ASRModelId: 'm1',
        CallRestrict: 'CONTROL_AX_DISABLE',
      });
      expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
      expect(r.body.SecretBindDTO).toEqual({ Extension: '123', SubsId: expect.any(String), SecretNo: xNo(300) });
      const b = await h.ctx.store.get(EXT, xNo(300), r.body.SecretBindDTO.SubsId);
      expect(b).toMatchObject({
        mode: 'AXE',
        a: aNo(40),
        b: bNo(40),
        x: xNo(300),
        extension: '123',
        recording: true,
        outId: 'ext-out',
        outOrderId: 'ext-order',
        callDisplayType: 1,
        ringConfig: { AXNRing_AB: '11', AXNRing_A: '12', AXNRing_N: '13' },
        asrStatus: false,
        asrModelId: 'm1',
        callRestrict: 'CONTROL_AX_DISABLE',
        expectCity: '杭州',
      });
      const detail = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: EXT, SubsId: r.body.SecretBindDTO.SubsId, PhoneNoX: xNo(300) });
      expect(detail.body.SecretBindDetailDTO).toMatchObject({ Extension: '123', PhoneNoA: aNo(40), CallRestrict: 'CONTROL_AX_DISABLE' });
    });

    it('assigns an extension when none is asked for', async () => {
      const r = await rpc(h.app, 'BindAxnExtension', { PoolKey: EXT, PhoneNoA: aNo(41), PhoneNoX: xNo(300), Expiration: expiration(3600) });
      expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
      expect(r.body.SecretBindDTO.Extension).toMatch(/^\d{1,4}$/);
      expect(r.body.SecretBindDTO.Extension).not.toBe('123');
    });

    it('refuses a taken extension on the same X', async () => {
      await refusedWithoutWrites(
        () => rpc(h.app, 'BindAxnExtension', { PoolKey: EXT, PhoneNoA: aNo(42), PhoneNoX: xNo(300), Extension: '123', Expiration: expiration(3600) }),
        'isv.BIND_CONFLICT',
      );
    });

    it.each([
      ['Extension without PhoneNoX', { Extension: '12', PhoneNoX: undefined }, 'isv.INVALID_PARAMETERS'],
      ['Extension of 4 digits', { Extension: '1234' }, 'isv.INVALID_PARAMETERS'],
      ['Extension not digits', { Extension: '1#' }, 'isv.INVALID_PARAMETERS'],
      ['PhoneNoA not a number', { PhoneNoA: '1380000000x' }, 'isv.MOBILE_NUMBER_ILLEGAL'],
      ['RingConfig AXB keys', { RingConfig: '{"AXBRing_B":"1"}' }, 'isv.INVALID_PARAMETERS'],
      ['ASRModelId oversize', { ASRModelId: 'm'.repeat(65) }, 'isv.INVALID_PARAMETERS'],
      ['wrong PoolKey', { PoolKey: 'FC_NOPE' }, 'isv.POOLKEY_NOT_EXISTS'],
      ['X not in the pool', { PhoneNoX: xNo(1) }, 'isv.NO_NOT_EXIST'],
    ] as const)('%s → %s, nothing written', async (_n, change, code) => {
      const params: Record<string, string> = { PoolKey: EXT, PhoneNoA: aNo(43), PhoneNoX: xNo(301), Extension: '5', Expiration: expiration(3600) };
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete params[k];
        else params[k] = v;
      }
      await refusedWithoutWrites(() => rpc(h.app, 'BindAxnExtension', params), code);
    });
  });

  describe('UpdateSubscription', () => {
    let subsId: string;
    let x: string;
    beforeAll(async () => {
      const r = await bindAxb(50, 50);
      expect(r.body.Code).toBe('OK');
      subsId = r.body.SecretBindDTO.SubsId;
      x = r.body.SecretBindDTO.SecretNo;
    });
    const update = (OperateType: string, extra: Record<string, string> = {}) =>
      rpc(h.app, 'UpdateSubscription', { PoolKey: POOL, SubsId: subsId, PhoneNoX: x, OperateType, ...extra });
    const current = () => h.ctx.store.get(POOL, x, subsId);

    it('updateNoA / updateNoB', async () => {
      expect((await update('updateNoA', { PhoneNoA: aNo(51) })).body.Code).toBe('OK');
      expect((await update('updateNoB', { PhoneNoB: '+86' + bNo(51) })).body.Code).toBe('OK');
      expect(await current()).toMatchObject({ a: aNo(51), b: bNo(51) });
    });

    it('updateExpire', async () => {
      const exp = expiration(86400);
      expect((await update('updateExpire', { Expiration: exp })).body.Code).toBe('OK');
      const d = await rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId: subsId, PhoneNoX: x });
      expect(d.body.SecretBindDetailDTO.ExpireDate).toBe(exp);
    });

    it('updateCallRestrict sets and clears', async () => {
      expect((await update('updateCallRestrict', { CallRestrict: 'CONTROL_AX_DISABLE' })).body.Code).toBe('OK');
      expect((await current())?.callRestrict).toBe('CONTROL_AX_DISABLE');
      expect((await update('updateCallRestrict', { CallRestrict: 'CONTROL_BX_DISABLE' })).body.Code).toBe('OK');
      expect((await current())?.callRestrict).toBe('CONTROL_BX_DISABLE');
      expect((await update('updateCallRestrict', { CallRestrict: 'CONTROL_CLEAR_DISABLE' })).body.Code).toBe('OK');
      expect((await current())?.callRestrict).toBeUndefined();
    });

    it('updateCallDisplayType, updateOutId, updateIsRecordingEnabled, updateAsr, updateRingConfig', async () => {
      expect((await update('updateCallDisplayType', { CallDisplayType: '2' })).body.Code).toBe('OK');
      expect((await update('updateOutId', { OutId: 'new-out' })).body.Code).toBe('OK');
      expect((await update('updateIsRecordingEnabled', { IsRecordingEnabled: 'true' })).body.Code).toBe('OK');
      expect((await update('updateAsr', { ASRStatus: 'true', ASRModelId: 'model-9' })).body.Code).toBe('OK');
      expect((await update('updateRingConfig', { RingConfig: '{"AXBRing_B":"55"}' })).body.Code).toBe('OK');
      expect(await current()).toMatchObject({
        callDisplayType: 2,
        outId: 'new-out',
        recording: true,
        asrStatus: true,
        asrModelId: 'model-9',
        ringConfig: { AXBRing_B: '55' },
      });
    });

    it.each([
      ['updateAxgGroup', { GroupId: '1' }, 'isv.FORBIDDEN_ACTION', 200],
      ['updateEverything', {}, 'isv.INVALID_PARAMETERS', 200],
      ['updateNoA', {}, 'MissingPhoneNoA', 400],
      ['updateNoA', { PhoneNoA: 'nope' }, 'isv.MOBILE_NUMBER_ILLEGAL', 200],
      ['updateNoB', {}, 'MissingPhoneNoB', 400],
      ['updateExpire', {}, 'MissingExpiration', 400],
      ['updateExpire', { Expiration: expiration(10) }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['updateExpire', { Expiration: 'soon' }, 'isv.EXPIRE_DATE_ILLEGAL', 200],
      ['updateCallRestrict', {}, 'MissingCallRestrict', 400],
      ['updateCallRestrict', { CallRestrict: 'NO' }, 'isv.INVALID_PARAMETERS', 200],
      ['updateOutId', { OutId: 'o'.repeat(65) }, 'isv.INVALID_PARAMETERS', 200],
      ['updateIsRecordingEnabled', {}, 'MissingIsRecordingEnabled', 400],
      ['updateAsr', { ASRStatus: 'true' }, 'MissingASRModelId', 400],
      ['updateRingConfig', { RingConfig: '{"AXNRing_N":"1"}' }, 'isv.INVALID_PARAMETERS', 200],
    ] as const)('%s %j → %s, nothing written', async (op, extra, code, status) => {
      await refusedWithoutWrites(() => update(op, extra as Record<string, string>), code, status);
    });

    it('refuses A or B already on this X, and A = B (isv.UPDATE_CONFLICT), without writing', async () => {
      const other = await bindAxb(52, 52, { PhoneNoX: x });
      expect(other.body.Code, JSON.stringify(other.body)).toBe('OK');
      await refusedWithoutWrites(() => update('updateNoB', { PhoneNoB: aNo(52) }), 'isv.UPDATE_CONFLICT');
      await refusedWithoutWrites(() => update('updateNoA', { PhoneNoA: bNo(52) }), 'isv.UPDATE_CONFLICT');
      const mine = await current();
      expect(mine).toBeDefined();
      await refusedWithoutWrites(() => update('updateNoB', { PhoneNoB: mine!.a }), 'isv.UPDATE_CONFLICT');
      expect(await current()).toEqual(mine);
    });

    it('refuses an OutId with a control character (isv.ILLEGAL_ARGUMENT) without writing', async () => {
      await refusedWithoutWrites(() => update('updateOutId', { OutId: 'new\u0000out' }), 'isv.ILLEGAL_ARGUMENT');
    });

    it('refuses an unknown SubsId and a SubsId of another X', async () => {
      await refusedWithoutWrites(
        () => rpc(h.app, 'UpdateSubscription', { PoolKey: POOL, SubsId: '999999', PhoneNoX: x, OperateType: 'updateOutId', OutId: 'z' }),
        'isv.SUBS_NOT_EXIST',
      );
      await refusedWithoutWrites(
        () => rpc(h.app, 'UpdateSubscription', { PoolKey: POOL, SubsId: subsId, PhoneNoX: xNo(19) === x ? xNo(18) : xNo(19), OperateType: 'updateOutId', OutId: 'z' }),
        'isv.SUBS_NOT_EXIST',
      );
    });
  });

  describe('UnbindSubscription, QuerySubsId, QuerySubscriptionDetail', () => {
    it('unbinds once; then the binding is gone', async () => {
      const r = await bindAxb(60, 60);
      const { SubsId, SecretNo } = r.body.SecretBindDTO;
      const q = await rpc(h.app, 'QuerySubsId', { PoolKey: POOL, PhoneNoX: SecretNo, PhoneNoA: aNo(60) });
      expect(q.body).toMatchObject({ Code: 'OK', SubsId });
      const u = await rpc(h.app, 'UnbindSubscription', { PoolKey: POOL, SubsId, SecretNo });
      expect(u.body).toMatchObject({ Code: 'OK', Message: 'OK' });
      await refusedWithoutWrites(() => rpc(h.app, 'UnbindSubscription', { PoolKey: POOL, SubsId, SecretNo }), 'isv.SUBS_NOT_EXIST');
      await refusedWithoutWrites(() => rpc(h.app, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId, PhoneNoX: SecretNo }), 'isv.SUBS_NOT_EXIST');
      await refusedWithoutWrites(() => rpc(h.app, 'QuerySubsId', { PoolKey: POOL, PhoneNoX: SecretNo, PhoneNoA: aNo(60) }), 'isv.SUBS_NOT_EXIST');
    });

    it('QuerySubsId with only PhoneNoX finds the single AXN binding', async () => {
      const r = await rpc(h.app, 'BindAxn', { PoolKey: 'FC_BJ', PhoneNoA: aNo(61), Expiration: expiration(3600) });
      expect(r.body.Code, JSON.stringify(r.body)).toBe('OK');
      const q = await rpc(h.app, 'QuerySubsId', { PoolKey: 'FC_BJ', PhoneNoX: r.body.SecretBindDTO.SecretNo });
      expect(q.body).toMatchObject({ Code: 'OK', SubsId: r.body.SecretBindDTO.SubsId });
    });

    it.each([
      ['UnbindSubscription', { PoolKey: POOL, SubsId: '1' }, 'MissingSecretNo', 400],
      ['UnbindSubscription', { PoolKey: POOL, SubsId: '1', SecretNo: 'x' }, 'isv.MOBILE_NUMBER_ILLEGAL', 200],
      ['QuerySubscriptionDetail', { PoolKey: POOL, PhoneNoX: xNo(1) }, 'MissingSubsId', 400],
      ['QuerySubscriptionDetail', { PoolKey: POOL, SubsId: 's'.repeat(65), PhoneNoX: xNo(1) }, 'isv.INVALID_PARAMETERS', 200],
      ['QuerySubsId', { PoolKey: POOL }, 'MissingPhoneNoX', 400],
    ] as const)('%s %j → %s', async (action, params, code, status) => {
      await refusedWithoutWrites(() => rpc(h.app, action, params as Record<string, string>), code, status);
    });
  });

  describe('BuySecretNo, ReleaseSecretNo, QuerySecretNoRemain', () => {
    beforeAll(async () => {
      const r = await ops(h.app, 'POST', '/v1/numbers', {
        numbers: [
          { number: xNo(500), city: '上海' },
          { number: xNo(501), city: '上海' },
          { number: '17190000001', city: '上海' },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ added: 3, existing: 0 });
    });

    it('counts, buys (with a prefix), releases', async () => {
      const remain = await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '上海' });
      expect(remain.body).toMatchObject({ Code: 'OK', SecretRemainDTO: { City: '上海', Amount: 3 } });
      const byPrefix = await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '上海', SecretNo: '171' });
      expect(byPrefix.body.SecretRemainDTO.Amount).toBe(1);

      const buy = await rpc(h.app, 'BuySecretNo', { PoolKey: POOL, SpecId: '1', City: '上海', SecretNo: '171' });
      expect(buy.body).toMatchObject({ Code: 'OK', SecretBuyInfoDTO: { SecretNo: '17190000001' } });
      expect((await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '上海' })).body.SecretRemainDTO.Amount).toBe(2);
      const pool = await ops(h.app, 'GET', `/v1/pools/${POOL}`);
      expect(pool.body.byCity['上海']).toBe(1);

      // the bought number binds like any other
      const bound = await bindAxb(70, 70, { PhoneNoX: '17190000001' });
      expect(bound.body.Code).toBe('OK');
      await refusedWithoutWrites(() => rpc(h.app, 'ReleaseSecretNo', { PoolKey: POOL, SecretNo: '17190000001' }), 'isv.FORBIDDEN_ACTION');
      await rpc(h.app, 'UnbindSubscription', { PoolKey: POOL, SubsId: bound.body.SecretBindDTO.SubsId, SecretNo: '17190000001' });
      const rel = await rpc(h.app, 'ReleaseSecretNo', { PoolKey: POOL, SecretNo: '17190000001' });
      expect(rel.body.Code).toBe('OK');
      expect((await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '上海' })).body.SecretRemainDTO.Amount).toBe(3);
    });

    it('answers City=全国 with the nationwide total and 全国列表 per city', async () => {
      await ops(h.app, 'POST', '/v1/numbers', { numbers: [{ number: xNo(600), city: '深圳' }] });
      const all = await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '全国' });
      const list = await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '全国列表' });
      const sh = (await rpc(h.app, 'QuerySecretNoRemain', { SpecId: '1', City: '上海' })).body.SecretRemainDTO.Amount as number;
      expect(all.body).toMatchObject({ Code: 'OK', SecretRemainDTO: { City: '全国', Amount: sh + 1 } });
      expect(list.body.SecretRemainDTO).toMatchObject({
        City: '全国列表',
        Amount: sh + 1,
        RemainDTOList: { remainDTO: expect.arrayContaining([{ City: '深圳', Amount: 1 }, { City: '上海', Amount: sh }]) },
      });
    });

    it.each([
      ['BuySecretNo', { PoolKey: POOL, SpecId: '1', City: '广州' }, 'isv.NO_AVAILABLE_NUMBER', 200],
      ['BuySecretNo', { PoolKey: 'FC_NOPE', SpecId: '1', City: '上海' }, 'isv.POOLKEY_NOT_EXISTS', 200],
      ['BuySecretNo', { PoolKey: POOL, SpecId: '9', City: '上海' }, 'isv.INVALID_PARAMETERS', 200],
      ['BuySecretNo', { PoolKey: POOL, City: '上海' }, 'MissingSpecId', 400],
      ['BuySecretNo', { PoolKey: POOL, SpecId: '1', City: '上海', SecretNo: '17a' }, 'isv.INVALID_PARAMETERS', 200],
      ['ReleaseSecretNo', { PoolKey: POOL, SecretNo: xNo(501) }, 'isv.NO_NOT_EXIST', 200],
      ['ReleaseSecretNo', { PoolKey: POOL }, 'MissingSecretNo', 400],
      ['QuerySecretNoRemain', { SpecId: '1' }, 'MissingCity', 400],
    ] as const)('%s %j → %s, nothing written', async (action, params, code, status) => {
      await refusedWithoutWrites(() => rpc(h.app, action, params as Record<string, string>), code, status);
    });
  });

  describe('concurrency', () => {
    it('100 concurrent BindAxb with the same A on a pool of 5 X: exactly 5 succeed, no duplicate pairs', async () => {
      await makePool(h.app, 'FC_C5', 5, 200);
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          rpc(h.app, 'BindAxb', { PoolKey: 'FC_C5', PhoneNoA: aNo(900), PhoneNoB: bNo(900 + i), Expiration: expiration(3600) }),
        ),
      );
      const ok = answers.filter((r) => r.body.Code === 'OK');
      const refused = answers.filter((r) => r.body.Code !== 'OK');
      expect(ok).toHaveLength(5);
      expect(new Set(refused.map((r) => r.body.Code))).toEqual(new Set(['isv.NO_AVAILABLE_NUMBER']));
      const xs = ok.map((r) => r.body.SecretBindDTO.SecretNo);
      expect(new Set(xs).size).toBe(5);
      const pool = await ops(h.app, 'GET', '/v1/pools/FC_C5');
      expect(pool.body).toMatchObject({ numbers: 5, numbersInUse: 5, bindings: 5 });
    });
  });
});
