// Wire compatibility with Alibaba's own clients, over a real socket: the official
// @alicloud/dyplsapi-2017-05-25 client (pop-core, signature v1, GET and POST), and
// @alicloud/openapi-client's callApi as the current Tea SDKs (@alicloud/dyplsapi20170525) use it
// (signature V3 ACS3-HMAC-SHA256 by default, v1 with signatureAlgorithm 'v2').
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../support/redis.js';
import { aNo, bNo, expiration, KEY_ID, KEY_SECRET, makePool, startHarness, xNo, type Harness } from './api-harness.js';

const require = createRequire(import.meta.url);
// CommonJS packages without types
const DyplsClient = require('@alicloud/dyplsapi-2017-05-25') as new (c: Record<string, unknown>) => Record<string, (p: object, o?: object) => Promise<any>>;
const OpenApi = require('@alicloud/openapi-client') as any;
const OpenApiUtil = require('@alicloud/openapi-util').default as any;
const TeaUtil = require('@alicloud/tea-util') as any;

describe.skipIf(!hasRedis)('official Alibaba clients against a listening xline', () => {
  let h: Harness;
  let base: string;
  const POOL = 'FC_SDK';
  const EXT_POOL = 'FC_SDK_EXT';

  beforeAll(async () => {
    h = await startHarness();
    await makePool(h.app, POOL, 10);
    // AXN-extension X numbers apart: an X carrying AXB bindings cannot take extensions
    await makePool(h.app, EXT_POOL, 2, 50);
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => h?.stop());

  describe('@alicloud/dyplsapi-2017-05-25 (pop-core, signature v1)', () => {
    const client = () => new DyplsClient({ accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, endpoint: base });

    it.each(['GET', 'POST'])('BindAxb, BindAxnExtension, QuerySubscriptionDetail, UpdateSubscription, UnbindSubscription over %s', async (method) => {
      const c = client();
      const o = { method, timeout: 5000 };
      const i = method === 'GET' ? 1 : 2;
      const bind = await c.bindAxb!({ PoolKey: POOL, PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600), OutId: 'sdk out*id ~' }, o);
      expect(bind).toMatchObject({ Code: 'OK', Message: 'OK', SecretBindDTO: { SubsId: expect.any(String), SecretNo: expect.stringMatching(/^1709/) } });
      const { SubsId, SecretNo } = bind.SecretBindDTO;

      const ext = await c.bindAxnExtension!(
        { PoolKey: EXT_POOL, PhoneNoA: aNo(10 + i), PhoneNoX: xNo(50), Extension: String(10 + i), Expiration: expiration(3600), IsRecordingEnabled: true },
        o,
      );
      expect(ext).toMatchObject({ Code: 'OK', SecretBindDTO: { Extension: String(10 + i), SecretNo: xNo(50) } });

      const detail = await c.querySubscriptionDetail!({ PoolKey: POOL, SubsId, PhoneNoX: SecretNo }, o);
      expect(detail).toMatchObject({ Code: 'OK', SecretBindDetailDTO: { SubsId, PhoneNoA: aNo(i), PhoneNoB: bNo(i), PhoneNoX: SecretNo, Status: 1, OutId: 'sdk out*id ~' } });

      const upd = await c.updateSubscription!({ PoolKey: POOL, SubsId, PhoneNoX: SecretNo, OperateType: 'updateNoB', PhoneNoB: bNo(50 + i) }, o);
      expect(upd).toMatchObject({ Code: 'OK' });
      expect((await h.ctx.store.get(POOL, SecretNo, SubsId))?.b).toBe(bNo(50 + i));

      const unbind = await c.unbindSubscription!({ PoolKey: POOL, SubsId, SecretNo }, o);
      expect(unbind).toMatchObject({ Code: 'OK' });
      expect(await h.ctx.store.get(POOL, SecretNo, SubsId)).toBeUndefined();
    });

    it('surfaces business and gateway errors the way pop-core reports them', async () => {
      const c = client();
      await expect(c.querySubscriptionDetail!({ PoolKey: POOL, SubsId: '1', PhoneNoX: xNo(1) }, { timeout: 5000 })).rejects.toMatchObject({
        code: 'isv.SUBS_NOT_EXIST',
        name: 'isv.SUBS_NOT_EXISTError',
      });
      const wrong = new DyplsClient({ accessKeyId: KEY_ID, accessKeySecret: 'not-the-secret', endpoint: base });
      await expect(wrong.querySubscriptionDetail!({ PoolKey: POOL, SubsId: '1', PhoneNoX: xNo(1) }, { timeout: 5000 })).rejects.toMatchObject({
        code: 'SignatureDoesNotMatch',
      });
    });
  });

  describe('@alicloud/openapi-client callApi (Tea SDK style)', () => {
    function teaClient(signatureAlgorithm?: string) {
      const config = new OpenApi.Config({
        accessKeyId: KEY_ID,
        accessKeySecret: KEY_SECRET,
        endpoint: base.replace(/^http:\/\//, ''),
        protocol: 'http',
        ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
      });
      return new OpenApi.default(config);
    }
    // What @alicloud/dyplsapi20170525 does for each action: query params, RPC style, form body type.
    async function call(client: any, action: string, query: Record<string, unknown>) {
      const params = new OpenApi.Params({
        action,
        version: '2017-05-25',
        protocol: 'HTTP',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      const request = new OpenApi.OpenApiRequest({ query: OpenApiUtil.query(query) });
      const res = await client.callApi(params, request, new TeaUtil.RuntimeOptions({}));
      return res.body;
    }

    it.each([
      ['V3 ACS3-HMAC-SHA256 (default)', undefined, 20],
      ['v1 HMAC-SHA1 (signatureAlgorithm v2)', 'v2', 30],
    ])('%s: bind, detail, update, unbind', async (_name, alg, i) => {
      const c = teaClient(alg);
      const bind = await call(c, 'BindAxb', { PoolKey: POOL, PhoneNoA: aNo(i), PhoneNoB: bNo(i), Expiration: expiration(3600), ExpectCity: '杭州', RingConfig: '{"AXBRing_A":"1"}' });
      expect(bind).toMatchObject({ Code: 'OK', SecretBindDTO: { SubsId: expect.any(String) } });
      const { SubsId, SecretNo } = bind.SecretBindDTO;
      const ext = await call(c, 'BindAxnExtension', { PoolKey: EXT_POOL, PhoneNoA: aNo(i + 1), PhoneNoX: xNo(51), Extension: String(i), Expiration: expiration(3600) });
      expect(ext).toMatchObject({ Code: 'OK', SecretBindDTO: { Extension: String(i) } });
      const detail = await call(c, 'QuerySubscriptionDetail', { PoolKey: POOL, SubsId, PhoneNoX: SecretNo });
      expect(detail.SecretBindDetailDTO).toMatchObject({ PhoneNoA: aNo(i), PhoneNoB: bNo(i) });
      expect(await call(c, 'UpdateSubscription', { PoolKey: POOL, SubsId, PhoneNoX: SecretNo, OperateType: 'updateExpire', Expiration: expiration(7200) })).toMatchObject({ Code: 'OK' });
      expect(await call(c, 'UnbindSubscription', { PoolKey: POOL, SubsId, SecretNo })).toMatchObject({ Code: 'OK' });
    });

    it('V3 with a wrong secret is refused with SignatureDoesNotMatch (HTTP 400)', async () => {
      const config = new OpenApi.Config({ accessKeyId: KEY_ID, accessKeySecret: 'wrong', endpoint: base.replace(/^http:\/\//, ''), protocol: 'http' });
      await expect(call(new OpenApi.default(config), 'QuerySubsId', { PoolKey: POOL, PhoneNoX: xNo(1) })).rejects.toMatchObject({
        code: 'SignatureDoesNotMatch',
        data: expect.objectContaining({ statusCode: 400 }),
      });
    });
  });
});
