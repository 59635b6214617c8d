// Bindings on the ops REST API (what the console's Bindings page uses; the dypls actions stay the
// API for business systems). Same store, same invariants, same error codes as dypls:
//   GET    /v1/bindings?x=|subs_id=|a=|b=|number=|out_id=[&pool_key=&limit=]   search live bindings
//   GET    /v1/bindings/{subsId}                                               one live binding
//   POST   /v1/bindings                                                        create AXB/AXN/AXE/AX
//   PATCH  /v1/bindings/{subsId}   {b?, expiration?, callRestrict?, recording?} change, one call
//   DELETE /v1/bindings/{subsId}                                               unbind
import type { FastifyInstance } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../../context.js';
import { MODES, RING_KEYS, type Binding, type BindingPatch, type Mode } from '../../domain/binding.js';
import { xerr } from '../../domain/errors.js';
import { canonicalNumber } from '../../domain/numbers.js';
import { formatWallClock, parseWallClock } from '../../domain/wall-clock.js';
import { assertRingTonesExist } from '../../audio-files/ring-tones.js';
import type { BindingFinder } from '../../store/binding-search.js';
import type { BindRequest } from '../../store/types.js';
import { checkExpiration } from '../dypls/actions/bind-common.js';
import { LIMITS } from '../dypls/fields.js';
import { errorSchema, opsError } from './errors.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const phone = { type: 'string', minLength: 3, maxLength: 32 } as const;
const subsIdParam = { type: 'object', properties: { subsId: { type: 'string', pattern: '^\\+?\\d{4,40}$' } }, required: ['subsId'] } as const;
const ringConfig = {
  type: 'object',
  properties: Object.fromEntries(RING_KEYS.map((k) => [k, { type: 'string', pattern: '^[\\w.-]{1,64}$' }])),
  additionalProperties: false,
} as const;
const expirationText = {
  type: 'string',
  maxLength: 40,
  description: "'YYYY-MM-DD HH:mm:ss' in TIMEZONE (as Alibaba's Expiration), or ISO 8601 with a zone; at least 1 minute ahead",
} as const;

export const bindingSchema = {
  type: 'object',
  properties: {
    subsId: { type: 'string' },
    mode: { type: 'string', enum: [...MODES] },
    poolKey: { type: 'string' },
    x: { type: 'string' },
    a: { type: 'string' },
    b: { type: 'string' },
    extension: { type: 'string' },
    expiresAt: { type: 'integer', description: 'unix seconds' },
    expiration: { type: 'string', description: 'expiresAt as YYYY-MM-DD HH:mm:ss in TIMEZONE' },
    createdAt: { type: 'integer' },
    callRestrict: { type: 'string' },
    ringConfig,
    recording: { type: 'boolean' },
    callDisplayType: { type: 'integer' },
    outId: { type: 'string' },
    outOrderId: { type: 'string' },
    expectCity: { type: 'string' },
  },
  required: ['subsId', 'mode', 'poolKey', 'x', 'a', 'expiresAt', 'recording'],
} as const;

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

interface CreateBody {
  mode: Mode;
  poolKey: string;
  a: string;
  b?: string;
  x?: string;
  extension?: string;
  expiration: string;
  recording?: boolean;
  callRestrict?: 'CONTROL_AX_DISABLE' | 'CONTROL_BX_DISABLE';
  outId?: string;
  ringConfig?: Record<string, string>;
}

interface PatchBody {
  b?: string;
  expiration?: string;
  callRestrict?: 'CONTROL_AX_DISABLE' | 'CONTROL_BX_DISABLE' | 'CONTROL_CLEAR_DISABLE';
  recording?: boolean;
}

interface SearchQuery {
  x?: string;
  subs_id?: string;
  a?: string;
  b?: string;
  number?: string;
  out_id?: string;
  pool_key?: string;
  limit: number;
}

/** `buildAdminApp(ctx, { console: … })` mounts this under /v1 with the finder it needs. */
export function bindingsRoutes(finder: BindingFinder) {
  return async function bindings(app: FastifyInstance, ctx: AppContext): Promise<void> {
    const country = ctx.config.DEFAULT_COUNTRY as CountryCode;
    const zone = ctx.config.TIMEZONE;
    const tags = ['bindings'];
    const view = (b: Binding) => ({ ...b, expiration: formatWallClock(b.expiresAt, zone) });

    const number = (name: string, v: string): string => {
      const c = canonicalNumber(v, country);
      if (!c) throw xerr('MOBILE_NUMBER_ILLEGAL', `${name} is not a valid phone number`);
      return c;
    };
    const expiration = (v: string): number => {
      let t = parseWallClock(v, zone);
      if (t === undefined && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
        const ms = Date.parse(v);
        if (Number.isFinite(ms)) t = Math.floor(ms / 1000);
      }
      if (t === undefined) throw xerr('EXPIRE_DATE_ILLEGAL', `expiration must be 'YYYY-MM-DD HH:mm:ss' (${zone}) or ISO 8601 with a zone`);
      return checkExpiration(t, Math.floor(Date.now() / 1000));
    };
    const found = async (subsId: string): Promise<Binding> => {
      const b = await finder.bySubsId(subsId);
      if (!b) throw xerr('SUBS_NOT_EXIST', `no live binding ${subsId}`);
      return b;
    };

    app.get<{ Querystring: SearchQuery }>(
      '/bindings',
      {
        schema: {
          summary: 'Search live bindings by X, SubsId, A, B, either party (number) or OutId',
          description:
            'Give exactly one of x, subs_id, a, b, number, out_id. Numbers are matched in canonical form (any common form is accepted). ' +
            'a, b, number and out_id read the bindings of every X (of pool_key when given): meant for people, not for polling.',
          tags,
          querystring: {
            type: 'object',
            properties: {
              x: phone,
              subs_id: text(64),
              a: phone,
              b: phone,
              number: phone,
              out_id: text(LIMITS.outId),
              pool_key: text(LIMITS.poolKey),
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: { items: { type: 'array', items: bindingSchema }, truncated: { type: 'boolean' } },
              required: ['items', 'truncated'],
            },
            ...errors,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const given = (['x', 'subs_id', 'a', 'b', 'number', 'out_id'] as const).filter((k) => q[k] !== undefined);
        if (given.length !== 1) throw opsError.invalid('give exactly one of x, subs_id, a, b, number, out_id');
        const inPool = (b: Binding) => !q.pool_key || b.poolKey === q.pool_key;
        let items: Binding[];
        let truncated = false;
        if (q.x !== undefined) items = (await finder.onX(number('x', q.x))).filter(inPool);
        else if (q.subs_id !== undefined) items = [await finder.bySubsId(q.subs_id)].filter((b): b is Binding => !!b && inPool(b));
        else {
          const opts = { limit: q.limit, ...(q.pool_key ? { poolKey: q.pool_key } : {}) };
          let r;
          if (q.out_id !== undefined) r = await finder.scan((b) => b.outId === q.out_id, opts);
          else {
            const n = number(given[0]!, (q.a ?? q.b ?? q.number)!);
            const pred = q.a !== undefined ? (b: Binding) => b.a === n : q.b !== undefined ? (b: Binding) => b.b === n : (b: Binding) => b.a === n || b.b === n;
            r = await finder.scan(pred, opts);
          }
          items = r.items;
          truncated = r.truncated;
        }
        return { items: items.slice(0, q.limit).map(view), truncated };
      },
    );

    app.get<{ Params: { subsId: string } }>(
      '/bindings/:subsId',
      { schema: { summary: 'One live binding', tags, params: subsIdParam, response: { 200: bindingSchema, ...errors } } },
      async (req) => view(await found(req.params.subsId)),
    );

    app.post<{ Body: CreateBody }>(
      '/bindings',
      {
        schema: {
          summary: 'Create a binding: AXB, AXN, AXE (AXN extension) or AX',
          description: 'As BindAxb / BindAxn / BindAxnExtension: the same checks and the same isv.* error codes.',
          tags,
          body: {
            type: 'object',
            properties: {
              mode: { type: 'string', enum: [...MODES] },
              poolKey: text(LIMITS.poolKey),
              a: phone,
              b: phone,
              x: phone,
              extension: { type: 'string', pattern: '^\\d{1,4}$' },
              expiration: expirationText,
              recording: { type: 'boolean' },
              callRestrict: { type: 'string', enum: ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE'] },
              outId: text(LIMITS.outId),
              ringConfig,
            },
            required: ['mode', 'poolKey', 'a', 'expiration'],
            additionalProperties: false,
          },
          response: { 201: bindingSchema, ...errors },
        },
      },
      async (req, reply) => {
        const p = req.body;
        if (p.mode === 'AXB' && p.b === undefined) throw xerr('INVALID_PARAMETERS', 'an AXB binding needs b');
        if (p.mode === 'AX' && p.b !== undefined) throw xerr('ILLEGAL_ARGUMENT', 'an AX binding has no B');
        if (p.extension !== undefined && p.mode !== 'AXE') throw xerr('ILLEGAL_ARGUMENT', 'only an AXE binding has an extension');
        const r: BindRequest = {
          mode: p.mode,
          poolKey: p.poolKey,
          a: number('a', p.a),
          expiresAt: expiration(p.expiration),
          recording: p.recording ?? false,
          callDisplayType: 1,
        };
        if (p.b !== undefined) r.b = number('b', p.b);
        if (r.b !== undefined && r.b === r.a) throw xerr('INVALID_PARAMETERS', 'a and b must differ');
        if (p.x !== undefined) r.x = number('x', p.x);
        if (p.extension !== undefined) r.extension = p.extension;
        if (p.callRestrict !== undefined) r.callRestrict = p.callRestrict;
        if (p.outId !== undefined) r.outId = p.outId;
        if (p.ringConfig && Object.keys(p.ringConfig).length) r.ringConfig = p.ringConfig;
        await assertRingTonesExist(ctx.config, r.ringConfig);
        const b = await ctx.store.bind(r);
        return reply.code(201).send(view(b));
      },
    );

    app.patch<{ Params: { subsId: string }; Body: PatchBody }>(
      '/bindings/:subsId',
      {
        schema: {
          summary: "Change a binding's B, expiration, call restriction or recording (several at once, applied in that order)",
          tags,
          params: subsIdParam,
          body: {
            type: 'object',
            properties: {
              b: phone,
              expiration: expirationText,
              callRestrict: { type: 'string', enum: ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE', 'CONTROL_CLEAR_DISABLE'] },
              recording: { type: 'boolean' },
            },
            additionalProperties: false,
            minProperties: 1,
          },
          response: { 200: bindingSchema, ...errors },
        },
      },
      async (req) => {
        const cur = await found(req.params.subsId);
        const p = req.body;
        // validate everything before the first write
        const patches: BindingPatch[] = [];
        if (p.b !== undefined) patches.push({ b: number('b', p.b) });
        if (p.expiration !== undefined) patches.push({ expiresAt: expiration(p.expiration) });
        if (p.callRestrict !== undefined) patches.push(p.callRestrict === 'CONTROL_CLEAR_DISABLE' ? { clearCallRestrict: true } : { callRestrict: p.callRestrict });
        if (p.recording !== undefined) patches.push({ recording: p.recording });
        let b = cur;
        for (const patch of patches) b = await ctx.store.update(cur.poolKey, cur.x, cur.subsId, patch);
        return view(b);
      },
    );

    app.delete<{ Params: { subsId: string } }>(
      '/bindings/:subsId',
      { schema: { summary: 'Unbind (as UnbindSubscription)', tags, params: subsIdParam, response: { 204: { type: 'null' }, ...errors } } },
      async (req, reply) => {
        const b = await found(req.params.subsId);
        await ctx.store.unbind(b.poolKey, b.x, b.subsId);
        return reply.code(204).send();
      },
    );
  };
}
