// Bindings on the ops REST API (what the console's Bindings page uses; the dypls actions stay the
// API for business systems). Same store, same invariants, same error codes as dypls:
//   GET    /v1/bindings?x=|subs_id=|a=|b=|number=|out_id=[&pool_key=&limit=]   search live bindings
//   GET    /v1/bindings/{subsId}                                               one live binding
//   POST   /v1/bindings                                                        create AXB/AXN/AXE/AX
//   PATCH  /v1/bindings/{subsId}   {b?, expiration?, callRestrict?, recording?} change, one call
//   DELETE /v1/bindings/{subsId}                                               unbind
import type { FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../../context.js';
import type { Binding, BindingPatch } from '../../domain/binding.js';
import { xlineError } from '../../domain/errors.js';
import { canonicalNumber } from '../../domain/numbers.js';
import { formatWallClock, parseWallClock } from '../../domain/wall-clock.js';
import { assertRingTonesExist } from '../../audio-files/ring-tones.js';
import type { BindingFinder } from '../../store/binding-search.js';
import type { BindRequest } from '../../store/types.js';
import { checkExpiration } from '../dypls/actions/bind-common.js';
import {
  bindingErrors as errors,
  bindingSchema,
  createBody,
  patchBody,
  SEARCH_KEYS,
  searchQuery,
  searchResult,
  subsIdParam,
} from './bindings-schemas.js';
import { opsError } from './errors.js';
import { typedRoutes } from './typed-routes.js';

const tags = ['bindings'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** What every bindings route reads its input and writes its answer with. */
interface BindingsIo {
  ctx: AppContext;
  finder: BindingFinder;
  /** A number in canonical form, or isv.MOBILE_NUMBER_ILLEGAL naming the field. */
  number(field: string, value: string): string;
  /** Unix seconds of an expiration text, at least a minute ahead, or isv.EXPIRE_DATE_ILLEGAL. */
  expiration(value: string): number;
  /** A binding as the API answers it (with its expiration in TIMEZONE). */
  view(b: Binding): Binding & { expiration: string };
  /** The live binding, or isv.SUBS_NOT_EXIST. */
  found(subsId: string): Promise<Binding>;
}

function bindingsIo(ctx: AppContext, finder: BindingFinder): BindingsIo {
  const country = ctx.config.DEFAULT_COUNTRY as CountryCode;
  const zone = ctx.config.TIMEZONE;
  return {
    ctx,
    finder,
    number(field, value) {
      const canonical = canonicalNumber(value, country);
      if (!canonical) throw xlineError('MOBILE_NUMBER_ILLEGAL', `${field} is not a valid phone number`);
      return canonical;
    },
    expiration(value) {
      let t = parseWallClock(value, zone);
      if (t === undefined && ISO_8601.test(value)) {
        const ms = Date.parse(value);
        if (Number.isFinite(ms)) t = Math.floor(ms / 1000);
      }
      if (t === undefined) throw xlineError('EXPIRE_DATE_ILLEGAL', `expiration must be 'YYYY-MM-DD HH:mm:ss' (${zone}) or ISO 8601 with a zone`);
      return checkExpiration(t, Math.floor(Date.now() / 1000));
    },
    view: (b) => ({ ...b, expiration: formatWallClock(b.expiresAt, zone) }),
    async found(subsId) {
      const b = await finder.bySubsId(subsId);
      if (!b) throw xlineError('SUBS_NOT_EXIST', `no live binding ${subsId}`);
      return b;
    },
  };
}

/** `buildAdminApp(ctx, { console: … })` mounts this under /v1 with the finder it needs. */
export function bindingsRoutes(finder: BindingFinder) {
  return async function bindings(app: FastifyInstance, ctx: AppContext): Promise<void> {
    const io = bindingsIo(ctx, finder);
    searchRoute(app, io);
    readRoute(app, io);
    createRoute(app, io);
    patchRoute(app, io);
    deleteRoute(app, io);
  };
}

function searchRoute(app: FastifyInstance, io: BindingsIo): void {
  typedRoutes(app).get(
    '/bindings',
    {
      schema: {
        summary: 'Search live bindings by X, SubsId, A, B, either party (number) or OutId',
        description:
          'Give exactly one of x, subs_id, a, b, number, out_id. Numbers are matched in canonical form (any common form is accepted). ' +
          'a, b, number and out_id read the bindings of every X (of pool_key when given): meant for people, not for polling.',
        tags,
        querystring: searchQuery,
        response: { 200: searchResult, ...errors },
      },
    },
    async (req) => {
      const found = await searchBindings(io, req.query);
      return { items: found.items.slice(0, req.query.limit).map(io.view), truncated: found.truncated };
    },
  );
}

async function searchBindings(io: BindingsIo, query: FromSchema<typeof searchQuery>): Promise<{ items: Binding[]; truncated: boolean }> {
  const given = SEARCH_KEYS.filter((k) => query[k] !== undefined);
  if (given.length !== 1) throw opsError.invalid(`give exactly one of ${SEARCH_KEYS.join(', ')}`);
  const inPool = (b: Binding) => !query.pool_key || b.poolKey === query.pool_key;
  if (query.x !== undefined) return { items: (await io.finder.onX(io.number('x', query.x))).filter(inPool), truncated: false };
  if (query.subs_id !== undefined) {
    const b = await io.finder.bySubsId(query.subs_id);
    return { items: b && inPool(b) ? [b] : [], truncated: false };
  }
  // the other keys read every X's bindings (of the pool when given)
  const opts = { limit: query.limit, ...(query.pool_key ? { poolKey: query.pool_key } : {}) };
  if (query.out_id !== undefined) return io.finder.scan((b) => b.outId === query.out_id, opts);
  const party = io.number(given[0]!, (query.a ?? query.b ?? query.number)!);
  const matches =
    query.a !== undefined ? (b: Binding) => b.a === party : query.b !== undefined ? (b: Binding) => b.b === party : (b: Binding) => b.a === party || b.b === party;
  return io.finder.scan(matches, opts);
}

function readRoute(app: FastifyInstance, io: BindingsIo): void {
  typedRoutes(app).get(
    '/bindings/:subsId',
    { schema: { summary: 'One live binding', tags, params: subsIdParam, response: { 200: bindingSchema, ...errors } } },
    async (req) => io.view(await io.found(req.params.subsId)),
  );
}

function createRoute(app: FastifyInstance, io: BindingsIo): void {
  typedRoutes(app).post(
    '/bindings',
    {
      schema: {
        summary: 'Create a binding: AXB, AXN, AXE (AXN extension) or AX',
        description: 'As BindAxb / BindAxn / BindAxnExtension: the same checks and the same isv.* error codes.',
        tags,
        body: createBody,
        response: { 201: bindingSchema, ...errors },
      },
    },
    async (req, reply) => {
      const request = bindRequestOf(io, req.body);
      await assertRingTonesExist(io.ctx.config, request.ringConfig);
      return reply.code(201).send(io.view(await io.ctx.store.bind(request)));
    },
  );
}

/** The store's bind request for a POST body, checked as BindAxb / BindAxn / BindAxnExtension check theirs. */
function bindRequestOf(io: BindingsIo, body: FromSchema<typeof createBody>): BindRequest {
  if (body.mode === 'AXB' && body.b === undefined) throw xlineError('INVALID_PARAMETERS', 'an AXB binding needs b');
  if (body.mode === 'AX' && body.b !== undefined) throw xlineError('ILLEGAL_ARGUMENT', 'an AX binding has no B');
  if (body.extension !== undefined && body.mode !== 'AXE') throw xlineError('ILLEGAL_ARGUMENT', 'only an AXE binding has an extension');
  const request: BindRequest = {
    mode: body.mode,
    poolKey: body.poolKey,
    a: io.number('a', body.a),
    expiresAt: io.expiration(body.expiration),
    recording: body.recording ?? false,
    callDisplayType: 1,
  };
  if (body.b !== undefined) request.b = io.number('b', body.b);
  if (request.b !== undefined && request.b === request.a) throw xlineError('INVALID_PARAMETERS', 'a and b must differ');
  if (body.x !== undefined) request.x = io.number('x', body.x);
  if (body.extension !== undefined) request.extension = body.extension;
  if (body.callRestrict !== undefined) request.callRestrict = body.callRestrict;
  if (body.outId !== undefined) request.outId = body.outId;
  if (body.ringConfig && Object.keys(body.ringConfig).length) request.ringConfig = body.ringConfig;
  return request;
}

function patchRoute(app: FastifyInstance, io: BindingsIo): void {
  typedRoutes(app).patch(
    '/bindings/:subsId',
    {
      schema: {
        summary: "Change a binding's B, expiration, call restriction or recording (several at once, applied in that order)",
        tags,
        params: subsIdParam,
        body: patchBody,
        response: { 200: bindingSchema, ...errors },
      },
    },
    async (req) => {
      const current = await io.found(req.params.subsId);
      const body = req.body;
      // validate everything before the first write
      const patches: BindingPatch[] = [];
      if (body.b !== undefined) patches.push({ b: io.number('b', body.b) });
      if (body.expiration !== undefined) patches.push({ expiresAt: io.expiration(body.expiration) });
      if (body.callRestrict !== undefined) {
        patches.push(body.callRestrict === 'CONTROL_CLEAR_DISABLE' ? { clearCallRestrict: true } : { callRestrict: body.callRestrict });
      }
      if (body.recording !== undefined) patches.push({ recording: body.recording });
      let updated = current;
      for (const patch of patches) updated = await io.ctx.store.update(current.poolKey, current.x, current.subsId, patch);
      return io.view(updated);
    },
  );
}

function deleteRoute(app: FastifyInstance, io: BindingsIo): void {
  typedRoutes(app).delete(
    '/bindings/:subsId',
    { schema: { summary: 'Unbind (as UnbindSubscription)', tags, params: subsIdParam, response: { 204: { type: 'null' }, ...errors } } },
    async (req, reply) => {
      const b = await io.found(req.params.subsId);
      await io.ctx.store.unbind(b.poolKey, b.x, b.subsId);
      return reply.code(204).send();
    },
  );
}
