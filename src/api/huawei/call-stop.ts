// Huawei's callStop (HUAWEI.md §3.4): POST /rest/httpsessions/callStop/v2.0
// {"sessionid","signal":"call_stop"} ends a live call of the requesting app. The sessionid is
// xline's call_id (the caller leg's SIP Call-ID, the sessionId of its call events and CDRs). The
// call's live record (events/store.ts, written by its instance) names the app of its binding; the
// instance holding the call hears the request on the end-call channel (events/end-call-channel.ts)
// and ends it: BYE to both legs, CDR release_dir 0, control_type 'call-stop'. The answer waits
// until the live record is gone (the CDR is written), at most CALL_STOP_WAIT_MS.
// Codes: not live, unknown or another app's: 1020152; not confirmed in time (or no instance
// listening): 1010001, which says retry (a second request for an ended call then answers 1020152).
import type { Cluster, Redis } from 'ioredis';
import { publishEndCall } from '../../events/end-call-channel.js';
import type { EventStore } from '../../events/store.js';
import { STORE_DEADLINE_MS } from '../../store/deadline.js';
import type { HuaweiInterface } from './plugin.js';
import { hwErr, invalid } from './result-codes.js';

export const CALL_STOP_PATH = '/rest/httpsessions/callStop/v2.0';
/** The control_type of the CDR of a call ended by callStop (Huawei callbacks map it). */
export const CALL_STOP_CONTROL_TYPE = 'call-stop';
/** How long the answer waits for the call to be ended (its live record gone). */
export const CALL_STOP_WAIT_MS = 3000;
const POLL_MS = 50;
const LIVE = new Set(['calling', 'ringing', 'talking']);

async function isLive(events: EventStore, sessionId: string, appKey?: string): Promise<boolean> {
  const r = await events.liveCallRecord(sessionId);
  return !!r && LIVE.has(r.state ?? '') && (appKey === undefined || r.info.app_key === appKey);
}

const callStop: HuaweiInterface = {
  name: 'callstop',
  method: 'POST',
  path: CALL_STOP_PATH,
  mode: 'any',
  deadlineMs: CALL_STOP_WAIT_MS + STORE_DEADLINE_MS,
  async run(call) {
    const { f, params: p, ctx, app } = call;
    const sessionId = f.str(p, 'sessionid', 1, 256);
    if (!sessionId) throw invalid('sessionid');
    if (f.str(p, 'signal', 1, 32) !== 'call_stop') throw invalid('signal');
    const events = ctx.callEvents;
    // no live-call records here (an instance without the events pipeline): no call is known
    if (!events || !(await isLive(events, sessionId, app.appKey))) throw hwErr('1020152');
    const heard = await publishEndCall(call.hw.bindings.redis as Redis | Cluster, sessionId, { controlType: CALL_STOP_CONTROL_TYPE });
    if (heard === 0) throw hwErr('1010001', 'No instance holds the call now; retry later.');
    const until = Date.now() + CALL_STOP_WAIT_MS;
    while (await isLive(events, sessionId)) {
      if (Date.now() >= until) throw hwErr('1010001', `The call was not confirmed ended within ${CALL_STOP_WAIT_MS} ms; retry.`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return {};
  },
};

export const CALL_STOP_INTERFACES: HuaweiInterface[] = [callStop];
