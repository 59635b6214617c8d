// An announcement and hang-up: the caller is answered from FreeSWITCH, hears one file, and the
// call ends with the refusal's cause and control type (Huawei AXE: A called X with no callback
// record and only a callbackTone, Huawei's 8019). The CDR is a refused call that was answered by
// the platform: release_dir 0, control_type 'no-callback'.
import type { Decision } from '../../domain/route.js';
import { RELEASE_DIR } from '../media-call.js';
import { MediaFlow } from './media-flow.js';

export class Announcement extends MediaFlow {
  async run(file: string, refusal: Extract<Decision, { kind: 'refuse' }>): Promise<void> {
    try {
      await this.answerCaller(async () => undefined);
      await this.goodbye(file, {
        dir: RELEASE_DIR.PLATFORM,
        cause: refusal.cause,
        outcome: 'refused',
        controlType: refusal.reason,
        controlMsg: 'no callback record: callbackTone played',
      });
    } catch (err) {
      this.failed(err);
    } finally {
      await this.teardown();
    }
  }
}
