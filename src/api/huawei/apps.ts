// Huawei applications (ops REST, bearer OPS_TOKEN): PUT/GET/DELETE /v1/huawei/apps/{appKey},
// GET /v1/huawei/apps. An app is what a Huawei client authenticates as (app_key / app_secret),
// bound to one mode and the pool its X numbers come from. The secret is never answered.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { huaweiStoreOf, HUAWEI_MODES, type HuaweiApp, type HuaweiMode } from '../../store/huawei-store.js';
import { errorSchema, opsError, OpsError } from '../ops/errors.js';
import { Deadline } from '../../store/deadline.js';

const appKeyParam = {
  type: 'object',
  properties: { appKey: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } },
  required: ['appKey'],
} as const;

const url = { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' } as const;

const appInfo = {
  type: 'object',
  properties: {
    appKey: { type: 'string' },
    mode: { type: 'string', enum: [...HUAWEI_MODES] },
    poolKey: { type: 'string' },
    statusUrl: { type: 'string', description: 'call events (呼叫状态接收地址)' },
    feeUrl: { type: 'string', description: 'CDRs (呼叫话单接收地址)' },
    createdAt: { type: 'integer', description: 'unix seconds' },
  },
  required: ['appKey', 'mode', 'poolKey', 'createdAt'],
} as const;

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema };

/** The app as answered: everything but the secret. */
export function publicApp(a: HuaweiApp) {
  const { appSecret: _secret, ...rest } = a;
  return rest;
}

export async function huaweiAppsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const hw = huaweiStoreOf(ctx.store, ctx.config.HUAWEI_APP_CACHE_MS);

  app.put<{ Params: { appKey: string }; Body: { appSecret: string; mode: HuaweiMode; poolKey: string; statusUrl?: string; feeUrl?: string } }>(
    '/huawei/apps/:appKey',
    {
      schema: {
        summary: 'Create or replace a Huawei PrivateNumber application (app_key in the path)',
        description: 'The app_secret is stored and never answered. 201 when created, 200 when replaced.',
        tags: ['huawei'],
        params: appKeyParam,
        body: {
          type: 'object',
          properties: {
            appSecret: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$', description: 'app_secret: 16–256 printable ASCII characters' },
            mode: { type: 'string', enum: [...HUAWEI_MODES] },
            poolKey: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'an existing pool (PUT /v1/pools/{poolKey})' },
            statusUrl: url,
            feeUrl: url,
          },
          required: ['appSecret', 'mode', 'poolKey'],
          additionalProperties: false,
        },
        response: { 200: appInfo, 201: appInfo, ...errors },
      },
    },
    async (req, reply) => {
      const { appSecret, mode, poolKey, statusUrl, feeUrl } = req.body;
      const dl = req.storeDeadline ?? new Deadline(true);
      if (!(await hw.poolExists(poolKey))) throw new OpsError(404, 'isv.POOLKEY_NOT_EXISTS', `pool ${poolKey} does not exist`);
      const created = await hw.putApp({ appKey: req.params.appKey, appSecret, mode, poolKey, ...(statusUrl ? { statusUrl } : {}), ...(feeUrl ? { feeUrl } : {}) }, dl);
      dl.renew();
      const a = await hw.readApp(req.params.appKey);
      if (!a) throw opsError.notFound(`app ${req.params.appKey}`);
      return reply.code(created ? 201 : 200).send(publicApp(a));
    },
  );

  app.get<{ Params: { appKey: string } }>(
    '/huawei/apps/:appKey',
    { schema: { summary: 'A Huawei application (without its secret)', tags: ['huawei'], params: appKeyParam, response: { 200: appInfo, ...errors } } },
    async (req) => {
      const a = await hw.readApp(req.params.appKey);
      if (!a) throw opsError.notFound(`app ${req.params.appKey}`);
      return publicApp(a);
    },
  );

  app.get(
    '/huawei/apps',
    {
      schema: {
        summary: 'Huawei applications (without their secrets)',
        tags: ['huawei'],
        response: { 200: { type: 'object', properties: { apps: { type: 'array', items: appInfo } }, required: ['apps'] }, ...errors },
      },
    },
    async () => ({ apps: (await hw.listApps()).map(publicApp) }),
  );

  app.delete<{ Params: { appKey: string } }>(
    '/huawei/apps/:appKey',
    {
      schema: {
        summary: 'Delete a Huawei application (its bindings stay, in its pool)',
        tags: ['huawei'],
        params: appKeyParam,
        response: { 204: { type: 'null', description: 'deleted' }, ...errors },
      },
    },
    async (req, reply) => {
      const dl = req.storeDeadline ?? new Deadline(true);
      if (!(await hw.deleteApp(req.params.appKey, dl))) throw opsError.notFound(`app ${req.params.appKey}`);
      return reply.code(204).send();
    },
  );
}
