// Ops REST for call records and webhook delivery (mounted under /v1, bearer token):
//   GET  /v1/cdrs?from=&to=&sub_id=&call_id=&limit=&cursor=   CDRs, oldest first, paged
//   GET  /v1/events/stats                                     queued / retrying / dead counts
//   GET  /v1/events/dead-letter?limit=&cursor=&target=        deliveries (webhook and Huawei apps) that exhausted their retries
//   GET  /v1/events/dead-letter/{id}
//   POST /v1/events/dead-letter/{id}/resend                   back to the queue, fresh schedule
//   POST /v1/events/dead-letter/resend {"ids":[…]} | {"all":true,"limit":n}
// from / to bound the time a CDR was recorded (the call's release, ± a second): from inclusive,
// to exclusive; unix milliseconds, ISO 8601 with a zone, or 'YYYY-MM-DD HH:mm:ss' in TIMEZONE.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { MAX_DEAD_READ } from '../../events/dead-letters.js';
import { CursorError, type EventStore } from '../../events/store.js';
import { parseWallClock } from '../../domain/wall-clock.js';
import { typedRoutes } from './typed-routes.js';
import { errorSchema, opsError } from './errors.js';

const MAX_LIMIT = 1000;
const MAX_RESEND = 1000;

/** The part of the events pipeline these routes use (a getter is fine: it is read per request). */
export interface EventsRoutesDeps {
  readonly store: EventStore;
}

const idText = { type: 'string', minLength: 1, maxLength: 1100 } as const;
const cursorText = { type: 'string', minLength: 1, maxLength: 1000 } as const;
const limitInt = { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100 } as const;

const cdrQuery = {
  type: 'object',
  properties: {
    from: { type: 'string', maxLength: 40, description: 'recorded at or after: unix ms, ISO 8601, or YYYY-MM-DD HH:mm:ss (TIMEZONE)' },
    to: { type: 'string', maxLength: 40, description: 'recorded before (exclusive), same forms as from' },
    sub_id: idText,
    call_id: idText,
    limit: limitInt,
    cursor: cursorText,
  },
  additionalProperties: false,
} as const;

const deadQuery = {
  type: 'object',
  properties: {
    limit: limitInt,
    cursor: cursorText,
    target: {
      type: 'string',
      maxLength: 150,
      // app keys as src/api/huawei/apps.ts takes them
      pattern: '^(webhook|huawei(:(status|fee)(:[A-Za-z0-9_.-]{1,128})?)?)$',
      description:
        'only dead letters going there: webhook; huawei (every Huawei app); huawei:status / huawei:fee (every app\'s call events / CDRs); huawei:status:<appKey> / huawei:fee:<appKey> (one app\'s)',
    },
  },
  additionalProperties: false,
} as const;

const idParam = { type: 'object', properties: { id: idText }, required: ['id'] } as const;

const resendBody = {
  type: 'object',
  properties: {
    ids: { type: 'array', items: idText, minItems: 1, maxItems: MAX_RESEND },
    all: { type: 'boolean', description: 'the oldest `limit` dead letters' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_RESEND, default: MAX_RESEND },
  },
  additionalProperties: false,
} as const;

const page = (items: object) =>
  ({
    type: 'object',
    properties: { items: { type: 'array', items }, next_cursor: { type: ['string', 'null'] } },
    required: ['items', 'next_cursor'],
  }) as const;

const anyObject = { type: 'object', additionalProperties: true } as const;
const deadLetter = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: "xline's event type or cdr; a Huawei app's eventType (callin … disconnect, collectInfo, fee)" },
    target: { type: 'string', description: "'webhook' (WEBHOOK_URL) or a Huawei app's URL: huawei:status:<appKey> / huawei:fee:<appKey>" },
    attempts: { type: 'integer' },
    last_status: { type: ['integer', 'null'], description: 'HTTP status of the last attempt; 0 = no answer' },
    last_error: { type: ['string', 'null'] },
    queued_at: { type: 'integer', description: 'unix ms' },
    dead_at: { type: 'integer', description: 'unix ms' },
    payload: { description: 'the JSON body that was POSTed' },
  },
} as const;
const resent = { type: 'object', properties: { resent: { type: 'array', items: { type: 'string' } } }, required: ['resent'] } as const;

/** Parses a from/to bound into unix ms. */
export function parseTimeBound(name: string, v: string | undefined, zone: string): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const wall = parseWallClock(v, zone);
  if (wall !== undefined) return wall * 1000;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw opsError.invalid(`${name} must be unix milliseconds, ISO 8601 with a zone, or 'YYYY-MM-DD HH:mm:ss' (${zone})`);
}

const withCursor = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CursorError) throw opsError.invalid(err.message);
    throw err;
  }
};

/** The ops plugin on the context's events pipeline (in OPS_PLUGINS); no routes without one. */
export async function eventsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const store = ctx.callEvents;
  if (store) await eventsOpsRoutes({ store })(app, ctx);
}

/** The ops plugin on an events store given apart (tests that build the pipeline later). */
export function eventsOpsRoutes(deps: EventsRoutesDeps) {
  return async function eventRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
    const app = typedRoutes(scope);
    const zone = ctx.config.TIMEZONE;
    const tags = ['events'];

    app.get(
      '/cdrs',
      {
        schema: {
          summary: 'List CDRs (Alibaba SecretReport fields) by time recorded, binding or call, oldest first',
          tags,
          querystring: cdrQuery,
          response: { 200: page(anyObject), 400: errorSchema },
        },
      },
      async (req) => {
        const q = req.query;
        const from = parseTimeBound('from', q.from, zone);
        const to = parseTimeBound('to', q.to, zone);
        if (from !== undefined && to !== undefined && to <= from) throw opsError.invalid('to must be later than from');
        return withCursor(() => deps.store.listCdrs({ from, to, subId: q.sub_id, callId: q.call_id, limit: q.limit, cursor: q.cursor }));
      },
    );

    app.get('/events/stats', { schema: { summary: 'Webhook queue: events queued (incl. in flight), waiting for a retry, dead', tags } }, async () =>
      deps.store.depth(),
    );

    deadLetterRoutes(app, deps, ctx);
  };
}

/** The dead letters: list (optionally by target), one, resend one, resend several. */
function deadLetterRoutes(app: ReturnType<typeof typedRoutes>, deps: EventsRoutesDeps, ctx: AppContext): void {
  const tags = ['events'];
  app.get(
    '/events/dead-letter',
    {
      schema: {
        summary: 'Deliveries that exhausted the retry schedule, oldest first, optionally only those to one target',
        description: `With target, a page may hold fewer than \`limit\` items (even none) and still carry next_cursor: the filter is applied to at most ${MAX_DEAD_READ} dead letters per request.`,
        tags,
        querystring: deadQuery,
        response: { 200: page(deadLetter), 400: errorSchema },
      },
    },
    async (req) => withCursor(() => deps.store.listDead({ limit: req.query.limit, cursor: req.query.cursor, target: req.query.target })),
  );

  app.get(
    '/events/dead-letter/:id',
    { schema: { summary: 'One dead letter', tags, params: idParam, response: { 200: deadLetter, 404: errorSchema } } },
    async (req) => {
      const d = await deps.store.getDead(req.params.id);
      if (!d) throw opsError.notFound(`dead letter ${req.params.id}`);
      return d;
    },
  );

  app.post(
    '/events/dead-letter/:id/resend',
    { schema: { summary: 'Queue one dead letter again, with a fresh retry schedule', tags, params: idParam, response: { 200: resent, 404: errorSchema } } },
    async (req) => {
      const done = await deps.store.resendDead([req.params.id], 1, req.storeDeadline?.writeBy(ctx.config.REDIS_CLOCK_SKEW_MS));
      if (done.length === 0) throw opsError.notFound(`dead letter ${req.params.id}`);
      return { resent: done };
    },
  );

  app.post(
    '/events/dead-letter/resend',
    {
      schema: {
        summary: 'Queue dead letters again: the listed ids, or with all=true the oldest `limit`',
        tags,
        body: resendBody,
        response: { 200: resent, 400: errorSchema },
      },
    },
    async (req) => {
      const b = req.body ?? { limit: MAX_RESEND };
      if (b.ids && b.all) throw opsError.invalid('give ids or all, not both');
      if (!b.ids && b.all !== true) throw opsError.invalid('give ids (a list) or all: true');
      return { resent: await deps.store.resendDead(b.ids, b.limit, req.storeDeadline?.writeBy(ctx.config.REDIS_CLOCK_SKEW_MS)) };
    },
  );
}
