// What the admin server mounts for the console: the page and sign-in at /console, the ops
// endpoints the pages need under /v1, the session store the /v1 auth hook consults.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { AppContext } from '../../context.js';
import type { EventStore } from '../../events/store.js';
import { BindingFinder } from '../../store/binding-search.js';
import { bindingsRoutes } from '../ops/bindings-routes.js';
import { callsRoutes } from '../ops/calls-routes.js';
import { consoleOpsRoutes, ringToneInUse } from './console-ops-routes.js';
import { consoleRoutes, loadConsoleAssets } from './console-routes.js';
import { ConsoleSessions } from './sessions.js';

export interface ConsoleOptions {
  /** Sessions, sign-in failure counts and binding search. */
  redis: Redis | Cluster;
  /** CDRs and live calls. */
  events: EventStore;
  /** Asks the SIP instance holding a call to end it; resolves how many instances heard. */
  endCall(callId: string): Promise<number>;
}

type Plugin = (app: FastifyInstance, ctx: AppContext) => Promise<void>;

export interface ConsoleParts {
  sessions: ConsoleSessions;
  root: Plugin;
  opsPlugins: Plugin[];
  opsPreHandler: (req: FastifyRequest) => Promise<void>;
}

export function consoleParts(ctx: AppContext, options: ConsoleOptions): ConsoleParts {
  const sessions = new ConsoleSessions(options.redis, ctx.config.CONSOLE_SESSION_HOURS * 3600);
  const finder = new BindingFinder(options.redis);
  return {
    sessions,
    root: consoleRoutes({ sessions, assets: loadConsoleAssets(ctx.config.CONSOLE_DIR) }),
    opsPlugins: [bindingsRoutes(finder), callsRoutes({ events: options.events, endCall: options.endCall }), consoleOpsRoutes()],
    opsPreHandler: ringToneInUse(finder, ctx),
  };
}
