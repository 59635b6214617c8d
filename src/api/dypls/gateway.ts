// The dypls-compatible RPC endpoint: `GET /?Action=…` and `POST /` (form-encoded; parameters in
// the query are accepted too, as POP does). Authenticates the request as Alibaba's POP gateway
// does (authentication.ts), runs the action with its SignatureNonce claimed once, and answers
// in Alibaba's shape, counting every answer.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { ERROR_CODES, XlineError } from '../../domain/errors.js';
import type { ApiMetrics } from '../api-metrics.js';
import type { ActionContext, ActionFactory, DyplsAction } from './action.js';
import { makeFields, parseParams } from './fields.js';
import { MAX_PARAMS, parseParamText, queryParams, tooManyParams } from './form-params.js';
import { isUtf8 } from '../body-text.js';
import { GatewayError, gatewayError } from './gateway-errors.js';
import { nonceClaimer } from './nonce.js';
import { authenticator, COMMON, runClaimingNonce, type Params } from './authentication.js';
import type { NonceClaim } from '../../store/types.js';
import { Deadline, withDeadline } from '../../store/deadline.js';

const HOST_ID = 'xline';
/** Where Alibaba points at its error centre, xline points at its own documentation. */
const RECOMMEND = 'See the Admin API error codes in the xline README.';

export interface DyplsGatewayOptions {
  actions: ActionFactory[];
  metrics: ApiMetrics;
}

/**
 * RequestIds in Alibaba's shape (36 uppercase hex and dashes): a random per-process prefix and a
 * counter. Unique across instances without a random UUID per request (they are for tracing, not
 * secrets).
 */
function requestIds(): () => string {
  const p = randomBytes(10).toString('hex').toUpperCase();
  const prefix = `${p.slice(0, 8)}-${p.slice(8, 12)}-${p.slice(12, 16)}-${p.slice(16, 20)}-`;
  let n = 0;
  return () => prefix + (n++ % 0x1000000000000).toString(16).toUpperCase().padStart(12, '0');
}

/** Query and form body merged into one flat string map; repeated parameters are refused. */
function collectParams(req: FastifyRequest, query: unknown): Params {
  const out: Params = Object.create(null) as Params;
  let count = 0;
  const add = (source: unknown) => {
    if (!source || typeof source !== 'object') return;
    const given = source as Record<string, unknown>;
    for (const name in given) {
      const value = given[name];
      if (typeof value !== 'string' || (name in out && out[name] !== value)) throw gatewayError.badRequest(`parameter ${name} must appear once`);
      if (++count > MAX_PARAMS) throw tooManyParams();
      out[name] = value;
    }
  };
  add(query);
  if (req.method === 'POST') add(req.body);
  return out;
}

/** The dypls RPC at `/`: its form-body parser and the GET and POST routes. */
export async function dyplsGateway(app: FastifyInstance, ctx: AppContext, opts: DyplsGatewayOptions): Promise<void> {
  useFormBodies(app);
  const handle = requestHandler(ctx, opts);
  // POP requests are small; a large body is refused before it is read in full.
  const bodyLimit = 256 * 1024;
  app.get('/', { schema: { hide: true } }, handle);
  app.post('/', { schema: { hide: true }, bodyLimit }, handle);
}

/** Form bodies parsed here, keeping the raw text: a V3 signature covers the body's sha256. */
function useFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    if (!isUtf8(buf)) return done(gatewayError.badRequest('the body is not UTF-8 text'), undefined);
    const text = buf.toString();
    req.rawBody = text;
    let parsed;
    try {
      parsed = parseParamText(text);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, parsed);
  });
}

interface Answer {
  status: number;
  code: string;
  body: Record<string, unknown>;
}

/** One request: run its action (runAction), answer in Alibaba's shape, count the answer. */
function requestHandler(ctx: AppContext, opts: DyplsGatewayOptions) {
  const runAction = actionRunner(ctx, opts.actions);
  const count = answerCounter(opts.metrics);
  const log = ctx.log.child({ component: 'dypls' });
  const outage = ctx.store.outage;
  const nextRequestId = requestIds();
  const debug = log.isLevelEnabled('debug');

  /** An error in Alibaba's shape; a business error with its code, a bug as isp.SYSTEM_ERROR. */
  function errorAnswer(err: unknown, requestId: string, actionName: string): Answer {
    if (err instanceof GatewayError) {
      return { status: err.status, code: err.code, body: { RequestId: requestId, HostId: HOST_ID, Code: err.code, Message: err.message, Recommend: RECOMMEND } };
    }
    if (err instanceof XlineError) {
      // Redis unavailable: counted in the outage log (one line when it begins, then a summary
      // every few seconds), not a line per request.
      if (err.code === ERROR_CODES.SYSTEM_ERROR) {
        if (outage) outage.requestFailed('dypls');
        else log.warn({ requestId, action: actionName, err: err.message }, 'dypls: system error');
      }
      return { status: 200, code: err.code, body: { Code: err.code, Message: err.message, RequestId: requestId } };
    }
    // A bug: never fastify's 500, always Alibaba's isp.SYSTEM_ERROR, and the stack in the log.
    log.error({ requestId, action: actionName, err }, 'dypls: system error');
    const code = ERROR_CODES.SYSTEM_ERROR;
    return { status: 200, code, body: { Code: code, Message: 'internal error, try again', RequestId: requestId } };
  }

  return async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    const requestId = nextRequestId();
    const seen = { action: 'unknown' };
    let answer: Answer;
    try {
      const payload = await runAction(req, requestId, seen);
      answer = { status: 200, code: 'OK', body: { Code: 'OK', Message: 'OK', RequestId: requestId, ...payload } };
    } catch (err) {
      answer = errorAnswer(err, requestId, seen.action);
    }
    const seconds = (performance.now() - started) / 1000;
    count(seen.action, answer.code, seconds);
    // No numbers in this line; per request, so debug only (counts and latency are in /metrics).
    if (debug) log.debug({ requestId, action: seen.action, code: answer.code, ms: Math.round(seconds * 1000) }, 'dypls: answered');
    reply.code(answer.status).header('x-acs-request-id', requestId).send(answer.body);
  };
}

/**
 * Authenticates a request, parses its action's parameters and runs the action within the
 * request's deadline with its SignatureNonce claimed once. Sets `seen.action` once it is known.
 */
function actionRunner(ctx: AppContext, factories: ActionFactory[]) {
  const fields = makeFields({ country: ctx.config.DEFAULT_COUNTRY, timezone: ctx.config.TIMEZONE });
  const actions = new Map<string, DyplsAction<any>>();
  for (const make of factories) {
    const action = make(fields);
    actions.set(action.name, action);
  }
  const authenticate = authenticator(ctx, actions);
  const claimNonce = nonceClaimer(ctx.store);
  const checkNonce = !ctx.config.DISABLE_SIGNATURE_NONCE_CHECK;

  return async function runAction(req: FastifyRequest, requestId: string, seen: { action: string }): Promise<Record<string, unknown>> {
    const query = queryParams(req.url, req.query);
    const params = collectParams(req, query);
    const { action, accessKeyId, nonce, nonceTtl } = authenticate(req, (query ?? {}) as Params, params);
    seen.action = action.name;
    // Empty values were signed and count for the signature, but mean "absent" to an action.
    const own: Params = Object.create(null) as Params;
    for (const name in params) if (!COMMON.has(name) && params[name] !== '') own[name] = params[name]!;
    const parsed = parseParams(action.schema, own);
    let late = false;
    const nonceKey = `dypls:${accessKeyId}:${nonce}`;
    // From here the request waits on Redis: every write it makes is refused once this passes,
    // and the request answers isp.SYSTEM_ERROR when it does (store/deadline.ts).
    const deadline = new Deadline();
    const actionCtx: ActionContext = { ...ctx, now: Math.floor(Date.now() / 1000), requestId, accessKeyId, deadline };
    // A bind claims its nonce inside its own script (one Redis round trip instead of two).
    const claim: NonceClaim | undefined =
      checkNonce && action.claimsNonce && ctx.store.bindClaimsNonce ? (actionCtx.nonce = { key: nonceKey, ttlSeconds: nonceTtl }) : undefined;
    const run = runClaimingNonce(
      { check: checkNonce, claimNonce, key: nonceKey, ttlSeconds: nonceTtl, deadline, ...(claim ? { claim } : {}), late: () => late, actionName: action.name },
      () => action.run(parsed, actionCtx),
    );
    return withDeadline(run, deadline, action.name, () => {
      late = true;
    });
  };
}

/** Counts an answer and its latency by action; label children cached (prom-client hashes label values on every unlabelled call). */
function answerCounter(metrics: ApiMetrics): (action: string, code: string, seconds: number) => void {
  const { dypls: counter, dyplsLatency: latency } = metrics;
  const counters = new Map<string, { inc(): void }>();
  const latencies = new Map<string, { observe(v: number): void }>();
  return (action, code, seconds) => {
    const key = action + '\0' + code;
    let answers = counters.get(key);
    if (!answers) counters.set(key, (answers = counter.labels(action, code)));
    answers.inc();
    let timing = latencies.get(action);
    if (!timing) latencies.set(action, (timing = latency.labels(action)));
    timing.observe(seconds);
  };
}
