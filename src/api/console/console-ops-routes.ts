// Ops endpoints the console needs beyond bindings and calls (mounted under /v1, bearer or session):
//   POST /v1/console/reveal {page}   the operator switched "Reveal numbers" on: logged at info (who, when, which page)
//   GET  /v1/ring-tones/{id}         the tone's wav, to play it in the page
// and the rule that a ring tone named by a pool or a live binding cannot be deleted (ringToneInUse).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { RING_TONE_ID, ringTonePath } from '../../audio-files/ring-tones.js';
import type { BindingFinder } from '../../store/binding-search.js';
import { errorSchema, OpsError, opsError } from '../ops/errors.js';
import { whoOf } from './guard.js';

export const CONSOLE_PAGES = ['overview', 'pools', 'bindings', 'binding', 'calls', 'call', 'live', 'deliveries', 'ring-tones', 'huawei-apps'] as const;

export function consoleOpsRoutes() {
  return async function consoleOps(app: FastifyInstance, ctx: AppContext): Promise<void> {
    app.post<{ Body: { page: string } }>(
      '/console/reveal',
      {
        schema: {
          summary: 'Record that real numbers were revealed on a console page (logged at info: who, when, which page)',
          tags: ['console'],
          body: { type: 'object', properties: { page: { type: 'string', enum: [...CONSOLE_PAGES] } }, required: ['page'], additionalProperties: false },
          response: { 204: { type: 'null' }, 400: errorSchema },
        },
      },
      async (req, reply) => {
        ctx.log.info({ who: whoOf(req), page: req.body.page, at: new Date().toISOString() }, 'console: numbers revealed');
        return reply.code(204).send();
      },
    );

    app.get<{ Params: { id: string } }>(
      '/ring-tones/:id',
      {
        schema: {
          summary: "A ring tone's wav",
          tags: ['media'],
          params: { type: 'object', properties: { id: { type: 'string', pattern: RING_TONE_ID.source } }, required: ['id'] },
          response: { 404: errorSchema },
        },
      },
      async (req, reply) => {
        const path = ringTonePath(ctx.config, req.params.id);
        let size: number;
        try {
          const st = await stat(path);
          if (!st.isFile()) throw new Error('not a file');
          size = st.size;
        } catch {
          throw opsError.notFound(`ring tone ${req.params.id}`);
        }
        reply.header('content-type', 'audio/wav');
        reply.header('content-length', String(size));
        reply.header('cache-control', 'private, no-cache');
        return reply.send(createReadStream(path));
      },
    );
  };
}

/** preHandler for /v1: DELETE /v1/ring-tones/{id} is refused (409) while a pool or a live binding names the tone. */
export function ringToneInUse(finder: BindingFinder, ctx: AppContext) {
  return async (req: FastifyRequest): Promise<void> => {
    if (req.method !== 'DELETE' || req.routeOptions.url !== '/v1/ring-tones/:id') return;
    const id = (req.params as { id?: string }).id ?? '';
    const users = await finder.ringToneUsers(id, async (p) => (await ctx.store.getPool(p))?.ringConfig);
    if (users.pools.length === 0 && users.bindings.length === 0) return;
    const parts = [
      users.pools.length ? `pool${users.pools.length > 1 ? 's' : ''} ${users.pools.join(', ')}` : '',
      users.bindings.length ? `binding${users.bindings.length > 1 ? 's' : ''} ${users.bindings.join(', ')}` : '',
    ].filter(Boolean);
    throw new OpsError(409, 'RING_TONE_IN_USE', `ring tone ${id} is used by ${parts.join(' and ')}; change their RingConfig or Huawei tones first`);
  };
}
