// Calls on the ops REST API (the console's Overview, Calls and Live pages):
//   GET  /v1/calls?from=&to=&x=&sub_id=&outcome=&limit=&cursor=   CDRs with filters, newest pages by cursor
//   GET  /v1/calls/stats                                          calls and failed calls in the last hour
//   GET  /v1/calls/live                                           calls in progress on every instance
//   POST /v1/calls/live/{callId}/end                              end one (the instance holding it does)
//   GET  /v1/calls/{callId}                                       one CDR, with a fresh recording link
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../../context.js';
import { canonicalNumber } from '../../domain/numbers.js';
import { EVENT_KEYS } from '../../events/keys.js';
import { CursorError, type EventStore } from '../../events/store.js';
import type { CallRecord } from '../../events/types.js';
import { recordingDuration, recordingExists, recordingLinks, recordingPath } from '../../audio-files/recording-files.js';
import { parseTimeBound } from './events-routes.js';
import { errorSchema, OpsError, opsError } from './errors.js';
import { typedRoutes } from './typed-routes.js';

/** Records read per /v1/calls request while filtering; past it the page is short and has a cursor. */
const MAX_READ = 5000;
/** /v1/calls/stats counts at most this many CDRs of the last hour. */
const MAX_STATS = 50_000;
/** How long "end call" waits to see the call's live state go. */
const END_WAIT_MS = 4000;

export interface CallsRoutesDeps {
  events: EventStore;
  /** Asks the instance holding the call to end it (Redis pub/sub); resolves how many instances heard. */
  endCall(callId: string): Promise<number>;
}

export type Outcome = 'answered' | 'failed';
const outcomeOf = (r: CallRecord): Outcome => (r.start_time ? 'answered' : 'failed');

const anyObject = { type: 'object', additionalProperties: true } as const;
const outcomeSchema = { type: 'string', enum: ['answered', 'failed'] } as const;
const callIdParam = { type: 'object', properties: { callId: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['callId'] } as const;
const liveCall = {
  type: 'object',
  properties: {
    call_id: { type: 'string' },
    state: { type: 'string', enum: ['calling', 'ringing', 'talking'] },
    since: { type: 'integer', description: 'unix ms the state began' },
    started_at: { type: 'integer', description: 'unix ms the call arrived' },
    answered_at: { type: 'integer' },
    sub_id: { type: 'string' },
    pool_key: { type: 'string' },
    secret_no: { type: 'string' },
    phone_no: { type: 'string' },
    peer_no: { type: 'string' },
    call_type: { type: 'integer' },
    out_id: { type: 'string' },
    instance: { type: 'string', description: 'owner (instance run) holding the call' },
  },
  required: ['call_id', 'state', 'since'],
} as const;

export interface LiveRow {
  call_id: string;
  state: 'calling' | 'ringing' | 'talking';
  since: number;
  started_at?: number;
  answered_at?: number;
  instance?: string;
  [k: string]: unknown;
}

/** Every call in progress, from the owners' indexes (one per instance run), newest first. */
export async function listLiveCalls(events: EventStore): Promise<LiveRow[]> {
  const redis = events.redis;
  const owners = await redis.zrange(EVENT_KEYS.owners, 0, -1);
  const ownerOf = new Map<string, string>();
  for (const owner of owners) for (const id of await redis.smembers(EVENT_KEYS.owned(owner))) ownerOf.set(id, owner);
  if (ownerOf.size === 0) return [];
  const list = [...ownerOf.keys()];
  const rows = await Promise.all(list.map((id) => redis.hmget(EVENT_KEYS.call(id), 'state', 'since', 'info', 't:start', 't:answer')));
  const out: LiveRow[] = [];
  rows.forEach(([state, since, info, tStart, tAnswer], i) => {
    if (state !== 'calling' && state !== 'ringing' && state !== 'talking') return;
    let extra: Record<string, unknown> = {};
    try {
      extra = info ? (JSON.parse(info) as Record<string, unknown>) : {};
    } catch {
      /* written by the events module; never malformed in practice */
    }
    for (const k of Object.keys(extra)) if (extra[k] === null || extra[k] === undefined) delete extra[k];
    const callId = list[i]!;
    out.push({
      ...extra,
      call_id: callId,
      state,
      since: Number(since),
      ...(tStart ? { started_at: Number(tStart) } : {}),
      ...(tAnswer ? { answered_at: Number(tAnswer) } : {}),
      instance: ownerOf.get(callId)!,
    });
  });
  return out.sort((a, b) => (b.started_at ?? b.since) - (a.started_at ?? a.since));
}

/** The ops plugin of calls: CDR search, last hour's counts, live calls and ending one, one call. */
export function callsRoutes(deps: CallsRoutesDeps) {
  return async function calls(app: FastifyInstance, ctx: AppContext): Promise<void> {
    searchRoute(app, ctx, deps);
    statsRoute(app, deps);
    liveRoutes(app, deps);
    oneCallRoute(app, ctx, deps);
  };
}

const tags = ['calls'];

const searchQuery = {
  type: 'object',
  properties: {
    from: { type: 'string', maxLength: 40 },
    to: { type: 'string', maxLength: 40 },
    x: { type: 'string', minLength: 3, maxLength: 32 },
    sub_id: { type: 'string', minLength: 1, maxLength: 64 },
    outcome: outcomeSchema,
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', minLength: 1, maxLength: 1000 },
  },
  additionalProperties: false,
} as const;

function searchRoute(app: FastifyInstance, ctx: AppContext, deps: CallsRoutesDeps): void {
  const zone = ctx.config.TIMEZONE;
  const country = ctx.config.DEFAULT_COUNTRY as CountryCode;
  typedRoutes(app).get(
    '/calls',
    {
      schema: {
        summary: 'CDRs by time recorded, filtered by X, binding and outcome, oldest first, paged',
        description:
          'A page may hold fewer than `limit` items (even none) and still carry next_cursor: the filters are applied to at most 5000 records per request.',
        tags,
        querystring: searchQuery,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: anyObject }, next_cursor: { type: ['string', 'null'] } }, required: ['items', 'next_cursor'] },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const query = req.query;
      const from = parseTimeBound('from', query.from, zone);
      const to = parseTimeBound('to', query.to, zone);
      if (from !== undefined && to !== undefined && to <= from) throw opsError.invalid('to must be later than from');
      let x: string | undefined;
      if (query.x !== undefined) {
        x = canonicalNumber(query.x, country);
        if (!x) throw new OpsError(400, 'isv.MOBILE_NUMBER_ILLEGAL', 'x is not a valid phone number');
      }
      const keep = (r: CallRecord) => (!x || r.secret_no === x) && (!query.outcome || outcomeOf(r) === query.outcome);
      return readFiltered(deps.events, { from, to, subId: query.sub_id, limit: query.limit, cursor: query.cursor }, keep);
    },
  );
}

/** CDRs passing `keep`, page by page, up to `limit` of them or MAX_READ records read. */
async function readFiltered(
  events: EventStore,
  range: { from?: number; to?: number; subId?: string; limit: number; cursor?: string },
  keep: (r: CallRecord) => boolean,
): Promise<{ items: CallRecord[]; next_cursor: string | null }> {
  const items: CallRecord[] = [];
  let cursor = range.cursor;
  let read = 0;
  try {
    for (;;) {
      // never read past what the page can take: the store's cursor then stays exact
      const page = await events.listCdrs({ from: range.from, to: range.to, subId: range.subId, limit: range.limit - items.length, ...(cursor ? { cursor } : {}) });
      read += page.items.length;
      items.push(...page.items.filter(keep));
      cursor = page.next_cursor ?? undefined;
      if (!cursor || items.length >= range.limit || read >= MAX_READ) break;
    }
  } catch (err) {
    if (err instanceof CursorError) throw opsError.invalid(err.message);
    throw err;
  }
  return { items, next_cursor: cursor ?? null };
}

function statsRoute(app: FastifyInstance, deps: CallsRoutesDeps): void {
  app.get(
    '/calls/stats',
    {
      schema: {
        summary: 'Calls and failed (never answered) calls recorded in the last hour',
        tags,
        response: {
          200: {
            type: 'object',
            properties: { since: { type: 'integer' }, calls: { type: 'integer' }, failed: { type: 'integer' }, capped: { type: 'boolean' } },
            required: ['since', 'calls', 'failed', 'capped'],
          },
        },
      },
    },
    async () => {
      const since = Date.now() - 3600_000;
      let calls = 0;
      let failed = 0;
      let cursor: string | undefined;
      do {
        const page = await deps.events.listCdrs({ from: since, limit: 1000, ...(cursor ? { cursor } : {}) });
        calls += page.items.length;
        failed += page.items.filter((r) => outcomeOf(r) === 'failed').length;
        cursor = page.next_cursor ?? undefined;
      } while (cursor && calls < MAX_STATS);
      return { since, calls, failed, capped: !!cursor };
    },
  );
}

function liveRoutes(app: FastifyInstance, deps: CallsRoutesDeps): void {
  app.get(
    '/calls/live',
    {
      schema: {
        summary: 'Calls in progress on every instance, newest first',
        tags,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: liveCall } }, required: ['items'] } },
      },
    },
    async () => ({ items: await listLiveCalls(deps.events) }),
  );

  typedRoutes(app).post(
    '/calls/live/:callId/end',
    {
      schema: {
        summary: 'End a call in progress (BYE to both legs, or 480 to a caller still waiting); the CDR says release_dir 0, cause 16',
        tags,
        params: callIdParam,
        response: { 200: { type: 'object', properties: { ended: { type: 'boolean' } }, required: ['ended'] }, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const { callId } = req.params;
      const live = async () => {
        const state = await deps.events.redis.hget(EVENT_KEYS.call(callId), 'state');
        return state === 'calling' || state === 'ringing' || state === 'talking';
      };
      if (!(await live())) throw opsError.notFound(`call in progress ${callId}`);
      const heard = await deps.endCall(callId);
      req.log.info({ callId, instances: heard }, 'ops: end call requested');
      const deadline = Date.now() + END_WAIT_MS;
      while (Date.now() < deadline) {
        if (!(await live())) return { ended: true };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new OpsError(409, 'END_CALL_UNCONFIRMED', 'the call is still recorded as live: no instance holding it answered (it may be lost; the reaper will end it)');
    },
  );
}

function oneCallRoute(app: FastifyInstance, ctx: AppContext, deps: CallsRoutesDeps): void {
  const links = recordingLinks(ctx.config);
  typedRoutes(app).get(
    '/calls/:callId',
    {
      schema: {
        summary: "One call's CDR, with a fresh signed link to its recording when one exists on this instance",
        tags,
        params: callIdParam,
        response: {
          200: {
            type: 'object',
            properties: {
              cdr: anyObject,
              outcome: outcomeSchema,
              recording: {
                type: 'object',
                properties: { url: { type: 'string', description: 'same-origin path, signed, expiring' }, expires: { type: 'integer' }, durationSec: { type: 'number' } },
              },
            },
            required: ['cdr', 'outcome'],
          },
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const cdr = await deps.events.getCdr(req.params.callId);
      if (!cdr) throw opsError.notFound(`call ${req.params.callId}`);
      const path = recordingPath(ctx.config, cdr.call_id);
      let recording: { url: string; expires: number; durationSec?: number } | undefined;
      if (await recordingExists(path)) {
        const link = links.url(basename(path));
        const url = new URL(link.url);
        const durationSec = await recordingDuration(path);
        recording = { url: url.pathname + url.search, expires: link.expires, ...(durationSec !== undefined ? { durationSec } : {}) };
      }
      return { cdr, outcome: outcomeOf(cdr), ...(recording ? { recording } : {}) };
    },
  );
}
