// The admin HTTP server: the dypls-compatible RPC at `/`, the ops REST API under /v1 (bearer
// token), /v1/health, /metrics and the OpenAPI document. Every error, fastify's own included,
// answers in the documented format of the API it hit: never fastify's default 500.
import fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteHandlerMethod,
  type RouteOptions,
} from 'fastify';
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import type { Socket } from 'node:net';
import type { AppContext } from '../context.js';
import { ERROR_CODES, XlineError } from '../domain/errors.js';
import type { StorageOutageLog } from '../store/outage-log.js';
import { asStorageError, Deadline, partialMessage, StorageUnavailableError, withDeadline } from '../store/deadline.js';
import { apiMetrics } from './api-metrics.js';
import { bodyDeadline } from './body-deadline.js';
import { useTextJsonParser } from './body-text.js';
import type { ActionFactory } from './dypls/action.js';
import { ACTIONS } from './dypls/actions/index.js';
import { dyplsGateway } from './dypls/gateway.js';
import { GatewayError, gatewayError } from './dypls/gateway-errors.js';
import { huaweiAppsRoutes } from './huawei/apps.js';
import { huaweiApi } from './huawei/plugin.js';
import { errorBody as huaweiErrorBody } from './huawei/reply.js';
import { HuaweiError, HW_CODES } from './huawei/result-codes.js';
import { bearerCheck } from './ops/auth.js';
import { consoleParts, type ConsoleOptions, type ConsoleParts } from './console/index.js';
import { opsOrSession } from './console/guard.js';
import { errorBody, OpsError, statusOf } from './ops/errors.js';
import { healthRoutes } from './ops/health-routes.js';
import { poolsRoutes } from './ops/pools-routes.js';
import { eventsRoutes } from './ops/events-routes.js';
import { recordingDownloadRoutes, ringToneRoutes } from './ops/media-routes.js';

/** Ops plugins mounted under /v1 behind the bearer token: a new area adds its plugin here (one line). */
export type OpsPlugin = (app: FastifyInstance, ctx: AppContext) => Promise<void>;
export const OPS_PLUGINS: OpsPlugin[] = [poolsRoutes, ringToneRoutes, eventsRoutes, huaweiAppsRoutes];
/** Ops plugins that never wait on Redis (files): no store deadline on their routes. */
const OFF_STORE: ReadonlySet<OpsPlugin> = new Set([ringToneRoutes]);

declare module 'fastify' {
  interface FastifyRequest {
    /** /v1 routes on Redis: when the request gives up on it; pass to the store's calls. */
    storeDeadline?: Deadline;
  }
}

export interface AdminAppExtras {
  /** Extra dypls actions (by Action name; a later entry replaces an earlier one). */
  actions?: ActionFactory[];
  /** Extra ops plugins under /v1 behind the bearer token. */
  opsPlugins?: OpsPlugin[];
  /** The operator console at /console/ (and /v1 accepting its session cookie). */
  console?: ConsoleOptions;
}

/** Request bodies larger than this are refused (an inventory import of 10,000 numbers fits). */
const BODY_LIMIT = 2 * 1024 * 1024;

const isOps = (url: string) => url.startsWith('/v1') || url.startsWith('/metrics') || url.startsWith('/console');
/** Huawei PrivateNumber API paths (./huawei): answered in Huawei's {resultcode, resultdesc}. */
const isHuawei = (url: string) => url.startsWith('/rest/');

/** The admin app: parsers and hooks, the OpenAPI document, error answers, then the route scopes in order. */
export async function buildAdminApp(ctx: AppContext, extras: AdminAppExtras = {}): Promise<FastifyInstance> {
  const answerError = errorAnswerer(ctx.store.outage);
  const app = newFastify(ctx, answerError);
  const metrics = apiMetrics(ctx.metrics);
  useTextJsonParser(app);
  app.addHook('preParsing', bodyDeadline(ctx.config.ADMIN_REQUEST_TIMEOUT_MS));
  // Past the limit a new connection is closed on accept: what an overload costs stays bounded
  // (file descriptors are shared with Redis, drachtio and the event spool).
  if (ctx.config.ADMIN_MAX_CONNECTIONS > 0) app.server.maxConnections = ctx.config.ADMIN_MAX_CONNECTIONS;
  app.server.on('drop', () => metrics.dropped.inc());
  const consoleApp = extras.console ? consoleParts(ctx, extras.console) : undefined;

  await app.register(swagger, OPENAPI);
  app.setErrorHandler(answerError);
  app.setNotFoundHandler(answerNotFound);

  // dypls RPC at /
  await app.register(async (scope) => dyplsGateway(scope, ctx, { actions: [...ACTIONS, ...(extras.actions ?? [])], metrics }));
  // Huawei PrivateNumber API at Huawei's /rest/... paths (authenticated per request by its app)
  await app.register(async (scope) => huaweiApi(scope, ctx, metrics));
  await app.register(async (scope) => openRoutes(scope, app, ctx));
  if (consoleApp) await app.register(async (scope) => consoleApp.root(scope, ctx));
  const plugins = [...OPS_PLUGINS, ...(consoleApp?.opsPlugins ?? []), ...(extras.opsPlugins ?? [])];
  await app.register(async (scope) => tokenRoutes(scope, ctx, plugins, metrics, consoleApp), { prefix: '/v1' });
  return app;
}

/** The fastify instance with xline's limits, logging and error answers. */
function newFastify(ctx: AppContext, answerError: ReturnType<typeof errorAnswerer>): FastifyInstance {
  const { ADMIN_REQUEST_TIMEOUT_MS: requestMs, RING_TONE_UPLOAD_TIMEOUT_MS: uploadMs } = ctx.config;
  // Node bounds the headers; bodyDeadline (buildAdminApp) each route's body; the whole request is
  // bounded as a backstop by the longest of the two in a row. Node checks its timers every
  // connectionsCheckingInterval (30 s by default, too coarse for a 10 s limit).
  const requestTimeout = requestMs + uploadMs;
  return fastify({
    requestTimeout,
    http: { headersTimeout: requestMs, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestMs / 4))) },
    // pino's Logger is wider than FastifyBaseLogger; the app is used through the base type.
    loggerInstance: ctx.log.child({ component: 'admin-http' }) as FastifyBaseLogger,
    // One log line per request would cost more than a bind; outcomes are counted in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (pino serialises its bindings on every child): the API logs
    // with its own request ids where it logs at all.
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // Unknown fields are an error the caller should hear about, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    clientErrorHandler,
    // A path that is not valid percent-encoded UTF-8 (FST_ERR_BAD_URL) and the like: answered in
    // the API's format like every other error, not fastify's.
    frameworkErrors: answerError,
  });
}

const OPENAPI: SwaggerOptions = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'xline ops API',
      version: '1',
      description: 'Ops REST API of xline. The dypls-compatible RPC API (Alibaba 号码隐私保护 2017-05-25) is served at / and documented by Alibaba.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        // the console's session; writes also need its X-CSRF-Token header
        console: { type: 'apiKey', in: 'cookie', name: 'xline_console' },
      },
    },
    security: [{ bearer: [] }, { console: [] }],
  },
};

/** An unknown path, in the format of the API its prefix belongs to. */
function answerNotFound(req: FastifyRequest, reply: FastifyReply) {
  const path = req.url.split('?')[0];
  if (isOps(req.url)) return reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${path}`));
  if (isHuawei(req.url)) return reply.code(404).send(huaweiErrorBody('1010002', `Invalid request. No API ${req.method} ${path}.`));
  return reply.code(404).send({ RequestId: 'xline', HostId: 'xline', Code: 'InvalidAction.NotFound', Message: 'Specified api is not found, please check your url and method.' });
}

/** Ops routes open to anyone: health, metrics, the OpenAPI document, signed recording links. */
async function openRoutes(scope: FastifyInstance, app: FastifyInstance, ctx: AppContext): Promise<void> {
  await healthRoutes(scope, ctx);
  // Recording downloads: the signed, expiring link is the credential (no bearer token).
  await recordingDownloadRoutes(scope, ctx);
  scope.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'] } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.metrics();
  });
  scope.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** The /v1 plugins behind the bearer token (or the console's session), each bound by the store deadline unless off the store. */
async function tokenRoutes(scope: FastifyInstance, ctx: AppContext, plugins: OpsPlugin[], metrics: ReturnType<typeof apiMetrics>, consoleApp?: ConsoleParts): Promise<void> {
  scope.addHook('onRequest', opsOrSession(bearerCheck(ctx.config.OPS_TOKEN), consoleApp?.sessions, !!ctx.config.OPS_TOKEN));
  if (consoleApp) scope.addHook('preHandler', consoleApp.opsPreHandler);
  scope.addHook('onResponse', async (req, reply) => {
    metrics.ops.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  for (const plugin of plugins) {
    await scope.register(async (s) => {
      if (!OFF_STORE.has(plugin)) s.addHook('onRoute', boundByStoreDeadline);
      await plugin(s, ctx);
    });
  }
}

/** Every error, fastify's own included, in the format of the API it hit. */
function errorAnswerer(outage?: StorageOutageLog) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (isOps(req.url)) {
      const [status, code, message] = opsErrorOf(err, req);
      // Redis unavailable: counted in the outage log, not a line (and a stack) per request
      if (err instanceof StorageUnavailableError && outage) outage.requestFailed('ops');
      else if (status >= 500) req.log.error({ err }, 'ops: error');
      return reply.code(status).send(errorBody(code, message));
    }
    if (isHuawei(req.url)) {
      // before any interface ran: a body that is not JSON or too large, a bad URL, a timeout
      if (err instanceof HuaweiError) return reply.code(err.status).send(huaweiErrorBody(err.code, err.message));
      const fe = err as FastifyError;
      if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
        // a bad body is Huawei's 1010002 with its status; 408, 413 and the like keep theirs
        const status = fe.statusCode === 400 ? HW_CODES['1010002'].status : fe.statusCode;
        return reply.code(status).send(huaweiErrorBody('1010002', `Invalid request.body ${fe.message}`));
      }
      req.log.error({ err }, 'huawei: unexpected error');
      return reply.code(HW_CODES['1010001'].status).send(huaweiErrorBody('1010001'));
    }
    const g = gatewayErrorOf(err, req);
    return reply.code(g.status).send({ RequestId: 'xline', HostId: 'xline', Code: g.code, Message: g.message });
  };
}

/**
 * Malformed HTTP never reaches a route, so the API it was meant for is unknown: the answer carries
 * both formats (dypls Code/Message and ops error{code,message}) instead of fastify's default.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const [status, text, message] = timeout
    ? [408, 'Request Timeout', 'the request was not received in time']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request line or headers are too large']
      : [400, 'Bad Request', 'malformed HTTP request'];
  const [code, opsCode] = timeout ? ['RequestTimeout', 'REQUEST_TIMEOUT'] : ['InvalidParameter', 'INVALID_REQUEST'];
  const body = JSON.stringify({ Code: code, Message: message, error: { code: opsCode, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/**
 * A /v1 route that waits on Redis answers 503 STORAGE_UNAVAILABLE once Redis has not answered for
 * STORE_DEADLINE_MS (the dypls API's deadline), however many round trips it makes: the handler
 * races its request's Deadline, which the store renews after each step Redis answered, and which
 * the store's writes honour (nothing lands after it).
 */
function boundByStoreDeadline(route: RouteOptions): void {
  const handler = route.handler as RouteHandlerMethod;
  const op = `${route.method.toString()} ${route.url}`;
  route.handler = function (this: FastifyInstance, req, reply) {
    const deadline = new Deadline(true);
    req.storeDeadline = deadline;
    // raw client errors (routes on other stores, e.g. the events' CDRs) answer like the store's own
    const run = Promise.resolve()
      .then(() => handler.call(this, req, reply))
      .catch((e: unknown) => Promise.reject(asStorageError(e, op) ?? e));
    return withDeadline(run, deadline, op);
  };
}

function opsErrorOf(err: FastifyError | Error, req: FastifyRequest): [number, string, string] {
  if (err instanceof OpsError) return [err.status, err.code, err.message];
  if (err instanceof StorageUnavailableError) {
    // a bulk write cut short keeps what landed before: say so, and that a retry completes it
    const landed = req.storeDeadline?.landed ?? 0;
    return [503, 'STORAGE_UNAVAILABLE', landed > 0 ? partialMessage(err.reason) : err.message];
  }
  if (err instanceof XlineError) return [statusOf(err.code), err.code, err.message];
  const fe = err as FastifyError;
  if (fe.validation) return [400, 'INVALID_REQUEST', fe.message];
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return [fe.statusCode, fe.statusCode === 408 ? 'REQUEST_TIMEOUT' : 'INVALID_REQUEST', fe.message];
  }
  // Redis down, a bug: say so plainly, with a 503 the caller may retry.
  return [503, ERROR_CODES.SYSTEM_ERROR, 'internal error or the binding store is unavailable; try again'];
}

function gatewayErrorOf(err: FastifyError | Error, req: FastifyRequest): GatewayError {
  if (err instanceof GatewayError) return err;
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return gatewayError.bodyTooLarge();
  if (fe.statusCode === 408) return gatewayError.requestTimeout(fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new GatewayError(fe.statusCode, 'InvalidParameter', fe.message);
  }
  req.log.error({ err }, 'dypls: unexpected error');
  return new GatewayError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.');
}
