// Huawei's recording download link (HUAWEI.md §6): GET /rest/provision/voice/record/v1.0
// ?fileName=<recordObjectName>&recordDomain=<recordDomain> answers 301 with Location set to a
// signed, time-limited link to the file (audio-files/recording-files.ts, the one
// QueryRecordFileDownloadUrl hands out). Only for a recording of a call on a binding of the
// requesting app (its CDR, found through the recording's index entry, names the app): an unknown
// file, or another app's, answers 1012007. Any mode's app may ask for its own.
import { recordingExists, recordingLinks } from '../../audio-files/recording-files.js';
import { resolve } from 'node:path';
import type { HuaweiInterface } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';

export const RECORD_PATH = '/rest/provision/voice/record/v1.0';

/** A recording's file name as xline writes them (recordingFileName): no path, no leading dot. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\.wav$/;

const recordLink: HuaweiInterface = {
  name: 'record.link',
  method: 'GET',
  path: RECORD_PATH,
  mode: 'any',
  async run(call, _req, reply) {
    const { f, params: p, ctx } = call;
    const fileName = f.str(p, 'fileName', 1, 256);
    if (!fileName) throw invalid('fileName');
    // recordDomain names Huawei's storage; xline's recordings are in RECORDING_DIR whatever it says
    f.str(p, 'recordDomain', 0, 128);
    if (!FILE_NAME.test(fileName)) throw hwErr('1012007');
    const cdr = await ctx.callEvents?.cdrOfRecording(fileName);
    if (cdr?.app_key !== call.app.appKey || !(await recordingExists(resolve(ctx.config.RECORDING_DIR, fileName)))) throw hwErr('1012007');
    const { url } = recordingLinks(ctx.config).url(fileName, call.now);
    await reply.code(301).header('location', url).header('cache-control', 'no-store').send();
    return null;
  },
};

export const RECORD_INTERFACES: HuaweiInterface[] = [recordLink];
