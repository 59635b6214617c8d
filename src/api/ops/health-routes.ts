// GET /v1/health (no token): 200 while Redis answers, 503 otherwise; body exactly as DESIGN §4.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { STORE_DEADLINE_MS } from '../../store/deadline.js';

const PING_DEADLINE_MS = STORE_DEADLINE_MS;

async function redisUp(ctx: AppContext): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      ctx.store.ping(),
      new Promise<boolean>((res) => {
        t = setTimeout(() => res(false), PING_DEADLINE_MS);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(t);
  }
}

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const updown = { type: 'string', enum: ['up', 'down'] } as const;
  const body = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'degraded'] },
      redis: updown,
      sip: updown,
      media: updown,
      // only when a media relay is configured (RTPENGINE_NG): up while rtpengine answers
      relay: updown,
      // one entry per drachtio-server the SIP app uses (sip/media above: up while any is)
      drachtio: {
        type: 'array',
        items: { type: 'object', properties: { server: { type: 'string' }, sip: updown, media: updown }, required: ['server', 'sip', 'media'] },
      },
    },
    required: ['status', 'redis', 'sip', 'media'],
  } as const;
  app.get(
    '/v1/health',
    {
      schema: {
        summary: 'Liveness of Redis, the SIP connection (drachtio-server), media (FreeSWITCH) and the media relay (rtpengine)',
        tags: ['health'],
        response: { 200: body, 503: body },
      },
    },
    async (_req, reply) => {
      const redis = await redisUp(ctx);
      const { sip, media, relay } = ctx.health;
      const ud = (b: boolean) => (b ? 'up' : 'down');
      reply.code(redis ? 200 : 503);
      const drachtio = ctx.health.drachtio?.map((d) => ({ server: d.server, sip: ud(d.sip), media: ud(d.media) }));
      return {
        status: redis && sip && media && relay !== false ? 'ok' : 'degraded',
        redis: ud(redis),
        sip: ud(sip),
        media: ud(media),
        ...(relay !== undefined ? { relay: ud(relay) } : {}),
        ...(drachtio ? { drachtio } : {}),
      };
    },
  );
}
