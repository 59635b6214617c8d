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
  let n = 0;
  const add = (src: unknown) => {
    if (!src || typeof src !== 'object') return;
    const o = src as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (typeof v !== 'string' || (k in out && out[k] !== v)) throw gatewayError.badRequest(`parameter ${k} must appear once`);
      if (++n > MAX_PARAMS) throw tooManyParams();
      out[k] = v;
    }
  };
  add(query);
  if (req.method === 'POST') add(req.body);
  return out;
}

/** Longer than 80 lines: one closure over the gateway's per-process state (actions, counters, request ids); its steps are the nested handle() and the body parser. */
export async function dyplsGateway(app: FastifyInstance, ctx: AppContext, opts: DyplsGatewayOptions): Promise<void> {
  const fields = makeFields({ country: ctx.config.DEFAULT_COUNTRY, timezone: ctx.config.TIMEZONE });
  const actions = new Map<string, DyplsAction<any>>();
  for (const make of opts.actions) {
    const a = make(fields);
    actions.set(a.name, a);
  }
  const authenticate = authenticator(ctx, actions);
  const claimNonce = nonceClaimer(ctx.store);
  const checkNonce = !ctx.config.DISABLE_SIGNATURE_NONCE_CHECK;
  const { dypls: counter, dyplsLatency: latency } = opts.metrics;
  // Label children cached: prom-client hashes label values on every unlabelled call.
  const counters = new Map<string, { inc(): void }>();
  const latencies = new Map<string, { observe(v: number): void }>();
  const count = (action: string, code: string, seconds: number) => {
    const k = action + '\0' + code;
    let c = counters.get(k);
    if (!c) counters.set(k, (c = counter.labels(action, code)));
    c.inc();
    let l = latencies.get(action);
    if (!l) latencies.set(action, (l = latency.labels(action)));
    l.observe(seconds);
  };
  const log = ctx.log.child({ component: 'dypls' });
  const outage = ctx.store.outage;
  const nextRequestId = requestIds();
  const debug = log.isLevelEnabled('debug');

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    const requestId = nextRequestId();
    let actionName = 'unknown';
    let code = 'OK';
    let status = 200;
    let body: Record<string, unknown>;
    try {
      const query = queryParams(req.url, req.query);
      const params = collectParams(req, query);
      const { action, accessKeyId, nonce, nonceTtl } = authenticate(req, (query ?? {}) as Params, params);
      actionName = action.name;
      // Empty values were signed and count for the signature, but mean "absent" to an action.
      const own: Params = Object.create(null) as Params;
      for (const k in params) if (!COMMON.has(k) && params[k] !== '') own[k] = params[k]!;
      const parsed = parseParams(action.schema, own);
      let late = false;
      const nonceKey = `dypls:${accessKeyId}:${nonce}`;
      // From here the request waits on Redis: every write it makes is refused once this passes,
      // and the request answers isp.SYSTEM_ERROR when it does (store/deadline.ts).
      const deadline = new Deadline();
      const actx: ActionContext = { ...ctx, now: Math.floor(Date.now() / 1000), requestId, accessKeyId, deadline };
      // A bind claims its nonce inside its own script (one Redis round trip instead of two).
      const claim: NonceClaim | undefined =
        checkNonce && action.claimsNonce && ctx.store.bindClaimsNonce ? (actx.nonce = { key: nonceKey, ttlSeconds: nonceTtl }) : undefined;
      const run = runClaimingNonce(
        { check: checkNonce, claimNonce, key: nonceKey, ttlSeconds: nonceTtl, deadline, ...(claim ? { claim } : {}), late: () => late, actionName },
        () => action.run(parsed, actx),
      );
      const payload = await withDeadline(run, deadline, actionName, () => {
        late = true;
      });
      body = { Code: 'OK', Message: 'OK', RequestId: requestId, ...payload };
    } catch (err) {
      if (err instanceof GatewayError) {
        status = err.status;
        code = err.code;
        body = { RequestId: requestId, HostId: HOST_ID, Code: err.code, Message: err.message, Recommend: RECOMMEND };
      } else if (err instanceof XlineError) {
        code = err.code;
        body = { Code: err.code, Message: err.message, RequestId: requestId };
        // Redis unavailable: counted in the outage log (one line when it begins, then a summary
        // every few seconds), not a line per request.
        if (err.code === ERROR_CODES.SYSTEM_ERROR) {
          if (outage) outage.requestFailed('dypls');
          else log.warn({ requestId, action: actionName, err: err.message }, 'dypls: system error');
        }
      } else {
        // A bug: never fastify's 500, always Alibaba's isp.SYSTEM_ERROR, and the stack in the log.
        code = ERROR_CODES.SYSTEM_ERROR;
        body = { Code: code, Message: 'internal error, try again', RequestId: requestId };
        log.error({ requestId, action: actionName, err }, 'dypls: system error');
      }
    }
    const seconds = (performance.now() - started) / 1000;
    count(actionName, code, seconds);
    // No numbers in this line; per request, so debug only (counts and latency are in /metrics).
    if (debug) log.debug({ requestId, action: actionName, code, ms: Math.round(seconds * 1000) }, 'dypls: answered');
    reply.code(status).header('x-acs-request-id', requestId).send(body);
  }

  // Form bodies parsed here, keeping the raw text: a V3 signature covers the body's sha256.
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
  // POP requests are small; a large body is refused before it is read in full.
  const bodyLimit = 256 * 1024;
  app.get('/', { schema: { hide: true } }, handle);
  app.post('/', { schema: { hide: true }, bodyLimit }, handle);
}
