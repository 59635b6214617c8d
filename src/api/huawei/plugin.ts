// The Huawei PrivateNumber API (HUAWEI.md) at Huawei's own /rest/... paths on the admin listener:
// every request is authenticated (auth.ts: AKSK or legacy WSSE, the Created window, the Nonce used
// once across instances), its app's mode checked (1010040), then its interface runs under one
// request deadline (store/deadline.ts: an answer of 1010001 means nothing was written). Answers
// are `{resultcode, resultdesc, …}` with the code table's HTTP status (result-codes.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { ERROR_CODES, XlineError } from '../../domain/errors.js';
import { asStorageError, Deadline, withDeadline } from '../../store/deadline.js';
import { huaweiStoreOf, type HuaweiApp, type HuaweiMode, type HuaweiStore } from '../../store/huawei-store.js';
import { NonceReplayError, type NonceClaim } from '../../store/types.js';
import type { ApiMetrics } from '../api-metrics.js';
import { nonceClaimer } from '../dypls/nonce.js';
import { checkCreated, digestMatches, nonceTtlSeconds, parseCredentials } from './auth.js';
import { fieldReader, type FieldReader, type Params } from './fields.js';
import { hwErr, HuaweiError, invalid } from './result-codes.js';
import { sendError, SUCCESS, toHuaweiError, type StoreCodeMap } from './reply.js';
import { HUAWEI_INTERFACES } from './routes.js';

/** Largest request body of the Huawei API (its bodies are a few hundred bytes). */
export const BODY_LIMIT = 64 * 1024;

/** What an interface's handler gets besides the request. */
export interface HuaweiCall {
  ctx: AppContext;
  hw: HuaweiStore;
  f: FieldReader;
  app: HuaweiApp;
  /** Query (GET, DELETE) or JSON body (POST, PUT) fields. */
  params: Params;
  /** Unix seconds, read once per request. */
  now: number;
  deadline: Deadline;
  /** For a `claimsNonce` interface: the nonce for its bind script to claim (store.bind's opts.nonce). */
  nonce?: NonceClaim;
}

export interface HuaweiInterface {
  /** For metrics and logs, e.g. 'axb.bind'. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The app mode allowed to call it; others get 1010040. 'any': every mode. */
  mode: HuaweiMode | 'any';
  /** The handler claims the nonce in its own bind script (one Redis round trip). */
  claimsNonce?: boolean;
  /** The request's deadline (default STORE_DEADLINE_MS): longer for an interface that waits (callStop). */
  deadlineMs?: number;
  /** Store error codes this interface answers differently (AX: a taken X is 1011005). */
  storeCodes?: StoreCodeMap;
  /**
   * The payload fields of a success (resultcode/resultdesc are added), or null when the handler
   * answered itself (the recording link's 301).
   */
  run(call: HuaweiCall, req: FastifyRequest, reply: FastifyReply): Promise<Record<string, unknown> | null>;
}

/** What every interface's handler shares: the stores, the field reader, auth and metrics. */
interface Shared {
  ctx: AppContext;
  hw: HuaweiStore;
  f: FieldReader;
  claimNonce: ReturnType<typeof nonceClaimer>;
  authenticate(req: FastifyRequest): Authenticated | Promise<Authenticated>;
  count(name: string, code: string): void;
  log: AppContext['log'];
}

interface Authenticated {
  app: HuaweiApp;
  nonceKey: string;
  nonceTtl: number;
}

/** Registers every interface of HUAWEI_INTERFACES (plus `extra`) on `app` (a scope of the admin app). */
export async function huaweiApi(app: FastifyInstance, ctx: AppContext, metrics?: ApiMetrics, extra: HuaweiInterface[] = []): Promise<void> {
  const hw = huaweiStoreOf(ctx.store, ctx.config.HUAWEI_APP_CACHE_MS);
  // lenient.ts JSON_WHATEVER_CONTENT_TYPE: a body is JSON whatever its declared type
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, (body as string).trim() === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(invalid('body'), undefined);
    }
  });
  const shared: Shared = {
    ctx,
    hw,
    f: fieldReader(ctx.config),
    claimNonce: nonceClaimer(ctx.store),
    authenticate: authenticator(hw, ctx.config.HUAWEI_CREATED_WINDOW_MS),
    count: counter(metrics),
    log: ctx.log.child({ component: 'huawei-api' }),
  };
  for (const i of [...HUAWEI_INTERFACES, ...extra]) {
    app.route({
      method: i.method,
      url: i.path,
      schema: { hide: true },
      // Huawei requests are small; a large body is refused (413) before it is read in full
      bodyLimit: BODY_LIMIT,
      handler: (req, reply) => handle(shared, i, req, reply),
    });
  }
}

/** Requests per interface and resultcode, in the API metrics (`huawei.<name>`). */
function counter(metrics: ApiMetrics | undefined): Shared['count'] {
  const counters = new Map<string, { inc(): void }>();
  return (name, code) => {
    if (!metrics) return;
    const k = name + '\0' + code;
    let c = counters.get(k);
    if (!c) counters.set(k, (c = metrics.dypls.labels(`huawei.${name}`, code)));
    c.inc();
  };
}

/**
 * The app the credentials name, after the window and the digest (nonce not yet claimed). Without
 * a promise when the app is in the cache (the bind hot path).
 */
function authenticator(hw: HuaweiStore, windowMs: number): Shared['authenticate'] {
  return (req) => {
    const c = parseCredentials(req.headers);
    const now = Date.now();
    checkCreated(c.createdMs, now, windowMs);
    const verify = (app: HuaweiApp | undefined): Authenticated => {
      if (!app) throw hwErr('1010003');
      if (!digestMatches(c, app.appSecret)) throw hwErr('1010010');
      return { app, nonceKey: `hw:${c.appKey}:${c.nonce}`, nonceTtl: nonceTtlSeconds(c.createdMs, now, windowMs) };
    };
    const app = hw.app(c.appKey);
    return app instanceof Promise ? app.then(verify) : verify(app);
  };
}

function paramsOf(req: FastifyRequest): Params {
  if (req.method === 'GET' || req.method === 'DELETE') {
    const q = (req.query ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(q)) if (typeof v !== 'string') throw invalid(k);
    return q;
  }
  let b = req.body;
  if (b === undefined) return {};
  // lenient.ts JSON_WHATEVER_CONTENT_TYPE: text/plain arrives as a string
  if (typeof b === 'string') {
    if (b.trim() === '') return {};
    try {
      b = JSON.parse(b) as unknown;
    } catch {
      throw invalid('body');
    }
  }
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('body');
  return b as Params;
}

const replayed = () => hwErr('1010010', 'Invalid digest. Nonce already used.');

/** One request: authenticated, mode checked, run under its deadline, answered. */
async function handle(s: Shared, i: HuaweiInterface, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const deadline = new Deadline(false, i.deadlineMs);
  const state = { late: false };
  try {
    const payload = await withDeadline(authenticateAndRun(s, i, req, reply, deadline, state), deadline, `huawei ${i.name}`, () => {
      state.late = true;
    });
    s.count(i.name, '0');
    if (payload === null) return reply;
    return reply.code(200).send({ ...SUCCESS, ...payload });
  } catch (err) {
    const e = toHuaweiError(err, i.storeCodes);
    s.count(i.name, e.code);
    if (e.code === '1010001' && !(err instanceof HuaweiError)) {
      // Redis unavailable: counted in the outage log, not a line per request
      if ((err instanceof XlineError || asStorageError(err, i.name)) && s.ctx.store.outage) s.ctx.store.outage.requestFailed('huawei');
      else s.log.error({ err, api: i.name }, 'huawei: internal error');
    }
    return sendError(reply, e);
  }
}

async function authenticateAndRun(
  s: Shared,
  i: HuaweiInterface,
  req: FastifyRequest,
  reply: FastifyReply,
  deadline: Deadline,
  state: { late: boolean },
): Promise<Record<string, unknown> | null> {
  const auth = s.authenticate(req);
  const { app: hwApp, nonceKey, nonceTtl } = auth instanceof Promise ? await auth : auth;
  if (i.mode !== 'any' && hwApp.mode !== i.mode) throw hwErr('1010040', `app_key not allowed to invoke this API (the app is ${hwApp.mode}).`);
  const call: HuaweiCall = { ctx: s.ctx, hw: s.hw, f: s.f, app: hwApp, params: {}, now: Math.floor(Date.now() / 1000), deadline };
  // fields are read after authentication (a stranger learns nothing of them), where a
  // refusal still uses up the nonce like any other
  const runIt = () => {
    call.params = paramsOf(req);
    return i.run(call, req, reply);
  };
  const own: NonceClaim | undefined = i.claimsNonce && s.ctx.store.bindClaimsNonce ? (call.nonce = { key: nonceKey, ttlSeconds: nonceTtl }) : undefined;
  if (!own) {
    if (!(await s.claimNonce(nonceKey, nonceTtl, deadline))) throw replayed();
    if (state.late) throw hwErr('1010001');
    return runIt();
  }
  try {
    return await runIt();
  } catch (err) {
    if (err instanceof NonceReplayError) throw replayed();
    // refused before its script ran: the nonce is used all the same
    const business = err instanceof HuaweiError ? err.code !== '1010001' : err instanceof XlineError && err.code !== ERROR_CODES.SYSTEM_ERROR;
    if (business && !own.claimed && !(await s.claimNonce(nonceKey, nonceTtl, deadline))) throw replayed();
    throw err;
  }
}
