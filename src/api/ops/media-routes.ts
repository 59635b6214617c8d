// Media on the admin HTTP server:
//  - ring tones (bearer token, under /v1): PUT /v1/ring-tones/{id} with a wav body stores the
//    tone RingConfig values name; GET lists them; DELETE removes one.
//  - recordings (no token: the link is the credential): GET /v1/recordings/{file}?expires&sig,
//    the time-limited HMAC-signed link QueryRecordFileDownloadUrl hands out. An expired or
//    altered link is 403, a valid link to a file that is gone 404.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { recordingLinks } from '../../audio-files/recording-files.js';
import {
  deleteRingTone,
  listRingTones,
  RING_TONE_ID,
  RING_TONE_MAX_BYTES,
  RingToneError,
  saveRingTone,
} from '../../audio-files/ring-tones.js';
import { typedRoutes } from './typed-routes.js';
import { errorSchema, OpsError, opsError } from './errors.js';

const WAV_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'application/octet-stream'];

const idParam = {
  type: 'object',
  properties: { id: { type: 'string', pattern: RING_TONE_ID.source } },
  required: ['id'],
} as const;

const toneInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    bytes: { type: 'integer' },
    durationSec: { type: 'number' },
    sampleRate: { type: 'integer' },
    channels: { type: 'integer' },
  },
  required: ['id', 'bytes'],
} as const;

/** /v1/ring-tones: mount with the other ops plugins (behind the bearer token). */
export async function ringToneRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typedRoutes(scope);
  // The body is the wav itself; parsers registered here apply to this plugin only.
  app.addContentTypeParser(WAV_TYPES, { parseAs: 'buffer', bodyLimit: RING_TONE_MAX_BYTES }, (_req, body, done) => done(null, body));

  app.put(
    '/ring-tones/:id',
    {
      bodyLimit: RING_TONE_MAX_BYTES,
      // 10 MB may take a while on an operator's slow link; API bodies keep the short deadline.
      config: { bodyTimeoutMs: ctx.config.RING_TONE_UPLOAD_TIMEOUT_MS },
      schema: {
        summary: 'Upload or replace a ring tone (wav body: PCM 8/16-bit, A-law or µ-law, 8–48 kHz, ≤ 10 MB)',
        description:
          'RingConfig values (bindings, pools) name ring tones by id; a RingConfig naming an id that was never uploaded is refused. ' +
          'Send the wav as the raw body with Content-Type audio/wav.',
        tags: ['media'],
        params: idParam,
        response: { 200: toneInfo, 201: toneInfo, 400: errorSchema, 415: errorSchema },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new OpsError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the wav with Content-Type ${WAV_TYPES[0]}`);
      try {
        const { created, info } = await saveRingTone(ctx.config, req.params.id, req.body);
        ctx.log.info({ toneId: req.params.id, bytes: req.body.length, created }, 'ring tone stored');
        return reply.code(created ? 201 : 200).send({
          id: req.params.id,
          bytes: req.body.length,
          durationSec: Math.round(info.durationSec * 1000) / 1000,
          sampleRate: info.sampleRate,
          channels: info.channels,
        });
      } catch (err) {
        if (err instanceof RingToneError) throw opsError.invalid(err.message);
        throw err;
      }
    },
  );

  app.get(
    '/ring-tones',
    {
      schema: {
        summary: 'List uploaded ring tones',
        tags: ['media'],
        response: {
          200: { type: 'object', properties: { ringTones: { type: 'array', items: toneInfo } }, required: ['ringTones'] },
        },
      },
    },
    async () => ({ ringTones: await listRingTones(ctx.config) }),
  );

  app.delete(
    '/ring-tones/:id',
    {
      schema: {
        summary: 'Delete a ring tone (calls whose RingConfig names it then hear the default ringback)',
        tags: ['media'],
        params: idParam,
        response: { 204: { type: 'null' }, 404: errorSchema },
      },
    },
    async (req, reply) => {
      if (!(await deleteRingTone(ctx.config, req.params.id))) throw opsError.notFound(`ring tone ${req.params.id}`);
      return reply.code(204).send();
    },
  );
}

/** GET /v1/recordings/{file}: mount WITHOUT the bearer token (the signed link authorises). */
export async function recordingDownloadRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typedRoutes(scope);
  const links = recordingLinks(ctx.config);
  app.get(
    '/v1/recordings/:name',
    {
      schema: {
        summary: 'Download a call recording through a link from QueryRecordFileDownloadUrl',
        tags: ['media'],
        security: [],
        params: {
          type: 'object',
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\\.wav$' } },
          required: ['name'],
        },
        querystring: {
          type: 'object',
          properties: { expires: { type: 'string' }, sig: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      const check = links.check(name, req.query.expires, req.query.sig);
      if (check === 'expired') throw new OpsError(403, 'LINK_EXPIRED', 'this recording link has expired; ask QueryRecordFileDownloadUrl for a new one');
      if (check !== 'ok') throw new OpsError(403, 'LINK_INVALID', 'this recording link is not valid');
      const path = resolve(ctx.config.RECORDING_DIR, name);
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) throw new Error('not a file');
        size = st.size;
      } catch {
        throw opsError.notFound('recording');
      }
      reply.header('content-type', 'audio/wav');
      reply.header('content-length', String(size));
      reply.header('cache-control', 'private, no-store');
      return reply.send(createReadStream(path));
    },
  );
}
