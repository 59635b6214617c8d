// The operator console at /console/ on the admin listener: the page, its content-hashed assets
// (built by `npm run build:console` into CONSOLE_DIR) and sign-in / sign-out. Everything the pages
// show comes from the ops REST API (/v1), called with the session cookie and the CSRF token.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { errorSchema, OpsError } from '../ops/errors.js';
import { typedRoutes } from '../ops/typed-routes.js';
import { checkCsrf, consoleSession, csrfRefused, sameOrigin } from './guard.js';
import { cookieValue, sameSecret, SESSION_COOKIE, SIGNIN_FAILURES_ALLOWED, SIGNIN_WINDOW_SEC, type ConsoleSessions } from './sessions.js';

/**
 * Only this origin's scripts, styles, media and API; no inline script or style at all, no
 * framing, no plugins, forms only to this origin.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface ConsoleAssets {
  index?: Buffer;
  files: Map<string, { body: Buffer; type: string }>;
}

/** The built console (index.html + assets/); empty when it was not built. */
export function loadConsoleAssets(dir: string): ConsoleAssets {
  const files = new Map<string, { body: Buffer; type: string }>();
  let index: Buffer | undefined;
  try {
    index = readFileSync(join(dir, 'index.html'));
    for (const name of readdirSync(join(dir, 'assets'))) {
      const p = join(dir, 'assets', name);
      if (statSync(p).isFile()) files.set(name, { body: readFileSync(p), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  } catch {
    return { files: new Map() };
  }
  return index ? { index, files } : { files };
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONSOLE_CSP);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
}

export interface ConsoleRoutesDeps {
  sessions: ConsoleSessions;
  assets: ConsoleAssets;
}

/** Mounted at the root (outside /v1's bearer check). */
export function consoleRoutes(deps: ConsoleRoutesDeps) {
  return async function console(app: FastifyInstance, ctx: AppContext): Promise<void> {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/console' || req.url.startsWith('/console/')) securityHeaders(reply);
    });
    pageRoutes(app, deps.assets);
    const secureCookie = ctx.config.PUBLIC_BASE_URL?.startsWith('https:') ?? false;
    signInRoute(app, ctx, deps.sessions, secureCookie);
    sessionRoutes(app, deps.sessions, secureCookie);
  };
}

const tags = ['console'];

const sessionView = {
  type: 'object',
  properties: { label: { type: 'string' }, csrf: { type: 'string' }, expiresAt: { type: 'integer' } },
  required: ['label', 'csrf', 'expiresAt'],
} as const;

/** The session cookie's Set-Cookie value (maxAge 0: cleared). */
function sessionCookie(req: FastifyRequest, value: string, maxAge: number, secure: boolean): string {
  return (
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}` +
    (maxAge > 0 ? `; Expires=${new Date(Date.now() + maxAge * 1000).toUTCString()}` : '; Expires=Thu, 01 Jan 1970 00:00:00 GMT') +
    (secure || req.protocol === 'https' ? '; Secure' : '')
  );
}

/** The page (one HTML document) and its content-hashed assets. */
function pageRoutes(app: FastifyInstance, assets: ConsoleAssets): void {
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 302));

  app.get('/console/', { schema: { hide: true } }, async (_req, reply) => {
    if (!assets.index) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('The console is not built: run `npm run build` (or `npm run build:console`), then restart xline.\n');
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(assets.index);
  });

  typedRoutes(app).get(
    '/console/assets/:name',
    { schema: { hide: true, params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
    async (req, reply) => {
      const asset = assets.files.get(req.params.name);
      if (!asset) throw new OpsError(404, 'NOT_FOUND', 'no such console asset');
      // names carry their content hash: a new build is a new name
      return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body);
    },
  );
}

/** Sign-in with the ops token, a few wrong tokens per address allowed. */
function signInRoute(app: FastifyInstance, ctx: AppContext, sessions: ConsoleSessions, secureCookie: boolean): void {
  const token = ctx.config.OPS_TOKEN;
  typedRoutes(app).post(
    '/console/api/session',
    {
      schema: {
        summary: 'Console sign-in with the ops token: sets an HttpOnly SameSite=Strict session cookie',
        description: `${SIGNIN_FAILURES_ALLOWED} wrong tokens from one address within ${SIGNIN_WINDOW_SEC} s, then 429 until the window ends.`,
        tags,
        security: [],
        body: { type: 'object', properties: { token: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['token'], additionalProperties: false },
        response: { 200: sessionView, 401: errorSchema, 403: errorSchema, 429: errorSchema },
      },
    },
    async (req, reply) => {
      if (!sameOrigin(req)) throw csrfRefused('it comes from another site');
      if (!token) throw new OpsError(403, 'OPS_DISABLED', 'the console is disabled: OPS_TOKEN is not configured');
      const who = req.ip;
      const wait = await sessions.blockedFor(who);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new OpsError(429, 'TOO_MANY_ATTEMPTS', `too many wrong tokens; try again in ${wait} s`);
      }
      if (!sameSecret(req.body.token, token)) {
        await sessions.failed(who);
        req.log.warn({ ip: who }, 'console: wrong ops token');
        throw new OpsError(401, 'UNAUTHORIZED', 'wrong ops token');
      }
      const { id, session } = await sessions.create();
      req.log.info({ who: session.label, ip: who }, 'console: signed in');
      reply.header('set-cookie', sessionCookie(req, id, sessions.ttlSec, secureCookie));
      reply.header('cache-control', 'no-store');
      return session;
    },
  );
}

/** The current session, and signing out. */
function sessionRoutes(app: FastifyInstance, sessions: ConsoleSessions, secureCookie: boolean): void {
  app.get(
    '/console/api/session',
    { schema: { summary: 'The current console session (its CSRF token), or 401', tags, security: [], response: { 200: sessionView, 401: errorSchema } } },
    async (req, reply) => {
      const session = await consoleSession(req, sessions);
      if (!session) throw new OpsError(401, 'UNAUTHORIZED', 'not signed in');
      reply.header('cache-control', 'no-store');
      return session;
    },
  );

  app.delete(
    '/console/api/session',
    { schema: { summary: 'Sign out: ends the session on every instance', tags, security: [], response: { 204: { type: 'null' }, 403: errorSchema } } },
    async (req, reply) => {
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
      const session = await consoleSession(req, sessions);
      if (session) {
        checkCsrf(req, session);
        await sessions.destroy(id);
        req.log.info({ who: session.label }, 'console: signed out');
      }
      return reply.code(204).header('set-cookie', sessionCookie(req, '', 0, secureCookie)).send();
    },
  );
}
