// The dypls-compatible RPC endpoint: `GET /?Action=…` and `POST /` (form-encoded; parameters in
// the query are accepted too, as POP does). Does what Alibaba's POP gateway does before an action
// runs — common parameters, Timestamp window, AccessKeyId, signature (POP v1 HMAC-SHA1 as
// pop-core sends, or V3 ACS3-HMAC-SHA256 as the Tea SDKs send), Version, Action, per-key
// throttling, SignatureNonce replay — then runs the action and answers in Alibaba's shape.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { ERROR_CODES, XlineError } from '../../domain/errors.js';
import type { ApiMetrics } from '../api-metrics.js';
import type { ActionContext, ActionFactory, DyplsAction } from './action.js';
import { makeFields, parseParams } from './fields.js';
import { MAX_PARAMS, parseParamText, queryParams, tooManyParams } from './form-params.js';
import { isUtf8 } from '../body-text.js';
import { GatewayError, gw } from './gateway-errors.js';
import { NONCE_TTL_SECONDS, nonceClaimer } from './nonce.js';
import { RateLimiter } from './rate-limit.js';
import { canonicalQuery, percentEncode, sign, signatureMatches } from './signature.js';
import { canonicalRequestV3, parseV3Authorization, sha256Hex, signV3, V3_ALGORITHM } from './signature-v3.js';
import { parsePopTimestamp } from '../../domain/wall-clock.js';
import { NonceReplayError, type NonceClaim } from '../../store/types.js';
import { Deadline, StorageUnavailableError, withDeadline } from '../../store/deadline.js';

export const API_VERSION = '2017-05-25';
/** POP refuses Timestamps more than 15 minutes away from its clock, either way. */
export const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;
const HOST_ID = 'xline';
/** Where Alibaba points at its error centre, xline points at its own documentation. */
const RECOMMEND = 'See the Admin API error codes in the xline README.';
const COMMON_REQUIRED = ['AccessKeyId', 'Signature', 'SignatureNonce', 'Timestamp', 'SignatureMethod', 'SignatureVersion', 'Version', 'Action'];
const COMMON = new Set([...COMMON_REQUIRED, 'Format', 'SecurityToken', 'RegionId']);
const MAX_NONCE = 128;
/** Headers a V3 signature must cover, or a replay could swap them. */
const V3_SIGNED = ['x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

export interface DyplsGatewayOptions {
  actions: ActionFactory[];
  metrics: ApiMetrics;
}

type Params = Record<string, string>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The form body as received (dypls routes only). */
    rawBody?: string;
  }
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
      if (typeof v !== 'string' || (k in out && out[k] !== v)) throw gw.badRequest(`parameter ${k} must appear once`);
      if (++n > MAX_PARAMS) throw tooManyParams();
      out[k] = v;
    }
  };
  add(query);
  if (req.method === 'POST') add(req.body);
  return out;
}

export async function dyplsGateway(app: FastifyInstance, ctx: AppContext, opts: DyplsGatewayOptions): Promise<void> {
  const fields = makeFields({ country: ctx.config.DEFAULT_COUNTRY, timezone: ctx.config.TIMEZONE });
  const actions = new Map<string, DyplsAction<any>>();
  for (const make of opts.actions) {
    const a = make(fields);
    actions.set(a.name, a);
  }
  const keys = ctx.config.ACCESS_KEYS;
  const limiter = new RateLimiter(ctx.config.API_RATE_LIMIT);
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

  interface Authenticated {
    action: DyplsAction<any>;
    accessKeyId: string;
    nonce: string;
    /** How long the nonce must be remembered: until its Timestamp leaves the window. */
    nonceTtl: number;
  }

  /** Returns the nonce TTL in seconds: a replay is refused by the window once Timestamp + 15 min is past. */
  function checkTimestamp(ts: string): number {
    const t = parsePopTimestamp(ts);
    if (t === undefined) throw gw.timestampFormat();
    const now = Date.now();
    if (Math.abs(now - t) > TIMESTAMP_WINDOW_MS) throw gw.timestampExpired();
    // plus a minute for instances whose clocks disagree; at most NONCE_TTL_SECONDS
    return Math.min(NONCE_TTL_SECONDS, Math.ceil((t + TIMESTAMP_WINDOW_MS - now) / 1000) + 60);
  }

  function secretOf(accessKeyId: string): string {
    if (keys.size === 0) throw gw.forbiddenNoKeys();
    const secret = keys.get(accessKeyId);
    if (secret === undefined) throw gw.accessKeyNotFound();
    return secret;
  }

  /** After the signature: Version, Action, nonce length, throttling (signed requests only). */
  function resolve(version: string, actionName: string, accessKeyId: string, nonce: string, nonceTtl: number): Authenticated {
    if (version !== API_VERSION) throw gw.invalidVersion();
    const action = actions.get(actionName);
    if (!action) throw gw.actionNotFound(actionName);
    if (nonce.length > MAX_NONCE) throw gw.badRequest(`SignatureNonce is longer than ${MAX_NONCE} characters`);
    if (!limiter.take(accessKeyId)) throw gw.throttled();
    return { action, accessKeyId, nonce, nonceTtl };
  }

  /** POP signature v1: everything, signature included, travels in the parameters. */
  function authenticateV1(method: string, params: Params): Authenticated {
    const format = params.Format;
    if (format !== undefined && format.toUpperCase() !== 'JSON') throw gw.unsupportedFormat(format);
    for (const name of COMMON_REQUIRED) if (!params[name]) throw gw.missing(name);
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') {
      throw gw.incompleteSignature('SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.');
    }
    const nonceTtl = checkTimestamp(params.Timestamp!);
    const secret = secretOf(params.AccessKeyId!);
    if (!signatureMatches(sign(method, params, secret), params.Signature!)) {
      throw gw.signatureMismatch(method + '&%2F&' + percentEncode(canonicalQuery(params)));
    }
    return resolve(params.Version!, params.Action!, params.AccessKeyId!, params.SignatureNonce!, nonceTtl);
  }

  /** V3 (ACS3-HMAC-SHA256): action, version, date and nonce in x-acs-* headers, signature in Authorization. */
  function authenticateV3(req: FastifyRequest, query: Params, authorization: string): Authenticated {
    const auth = parseV3Authorization(authorization);
    if (!auth) throw gw.incompleteSignature(`Authorization must be "${V3_ALGORITHM} Credential=…,SignedHeaders=…,Signature=…".`);
    const h = req.headers;
    const header = (name: string): string => {
      const v = h[name];
      if (typeof v !== 'string' || !v) throw gw.missing(name);
      return v;
    };
    const action = header('x-acs-action');
    const version = header('x-acs-version');
    const date = header('x-acs-date');
    const nonce = header('x-acs-signature-nonce');
    const contentSha = header('x-acs-content-sha256');
    for (const n of V3_SIGNED) {
      if (!auth.signedHeaders.includes(n)) throw gw.incompleteSignature(`SignedHeaders must include ${n}.`);
    }
    const nonceTtl = checkTimestamp(date);
    const secret = secretOf(auth.accessKeyId);
    if (sha256Hex(req.rawBody ?? '') !== contentSha) throw gw.signatureMismatch('x-acs-content-sha256 does not match the body');
    const canonical = canonicalRequestV3({
      method: req.method,
      path: req.url.split('?')[0]!,
      query,
      headers: h,
      signedHeaders: auth.signedHeaders,
      payloadHash: contentSha,
    });
    if (!signatureMatches(signV3(secret, canonical), auth.signature)) throw gw.signatureMismatch(canonical);
    return resolve(version, action, auth.accessKeyId, nonce, nonceTtl);
  }

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
      const authorization = req.headers.authorization;
      const { action, accessKeyId, nonce, nonceTtl } =
        typeof authorization === 'string' && authorization.startsWith('ACS3-')
          ? authenticateV3(req, (query ?? {}) as Params, authorization)
          : authenticateV1(req.method, params);
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
      const run = async () => {
        if (!claim) {
          if (checkNonce && !(await claimNonce(nonceKey, nonceTtl, deadline))) throw gw.nonceUsed();
          // Already answered isp.SYSTEM_ERROR: a slow nonce check must not start the action now.
          if (late) throw new StorageUnavailableError('deadline', actionName);
          return action.run(parsed, actx);
        }
        try {
          return await action.run(parsed, actx);
        } catch (err) {
          if (err instanceof NonceReplayError) throw gw.nonceUsed();
          // Refused before it reached Redis (a bad Expiration, an unknown pool, …): the nonce is
          // used all the same, and a replay of it answers SignatureNonceUsed as it would have.
          const business = err instanceof XlineError && err.code !== ERROR_CODES.SYSTEM_ERROR;
          if (business && !claim.claimed && !(await claimNonce(nonceKey, nonceTtl, deadline))) throw gw.nonceUsed();
          throw err;
        }
      };
      const payload = await withDeadline(run(), deadline, actionName, () => {
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
    if (!isUtf8(buf)) return done(gw.badRequest('the body is not UTF-8 text'), undefined);
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
