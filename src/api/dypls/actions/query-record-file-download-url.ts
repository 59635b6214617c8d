// QueryRecordFileDownloadUrl: a time-limited link (RECORDING_URL_TTL_SECONDS, 2 h by default as
// Alibaba's) to the recording of CallId, served by the admin HTTP server at /v1/recordings/.
// Recordings exist for calls of bindings with IsRecordingEnabled that were answered.
import { z } from 'zod';
import { xlineError } from '../../../domain/errors.js';
import { recordingExists, recordingFileName, recordingLinks, recordingPath } from '../../../audio-files/recording-files.js';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'QueryRecordFileDownloadUrl',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey).optional(),
      CallId: f.text('CallId', 256),
      /** Alibaba uses it to find the month's archive; xline keys recordings by CallId alone. */
      CallTime: f.text('CallTime', 32).optional(),
      ProductType: f.text('ProductType', 32).optional(),
    }),
    run: async (params, ctx) => {
      if (!params.CallId) throw xlineError('INVALID_PARAMETERS', 'CallId must not be empty');
      if (!(await recordingExists(recordingPath(ctx.config, params.CallId)))) {
        throw xlineError('INVALID_PARAMETERS', 'no recording for this CallId (not recorded, not answered, or removed)');
      }
      const { url } = recordingLinks(ctx.config).url(recordingFileName(params.CallId), ctx.now);
      return { DownloadUrl: url };
    },
  });
export default factory;
