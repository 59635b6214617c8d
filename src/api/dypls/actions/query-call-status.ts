// QueryCallStatus (PoolKey, SubsId, CallNo?): Alibaba's SecretCallStatusDTO — Status 1 (calls
// to the binding go through; CalledNo = X to dial) or 4 (the binding has expired) — plus xline's
// live view of the binding's call from the events pipeline: CallState IDLE | CALLING | RINGING |
// TALKING | ENDED (hung up, CDR being written), CallId, StateTime and LiveCalls. With CallNo,
// only calls in which that number is a party count.
import { z } from 'zod';
import type { Binding } from '../../../domain/binding.js';
import { xlineError } from '../../../domain/errors.js';
import type { LiveCall } from '../../../events/store.js';
import { LIMITS } from '../fields.js';
import { formatWallClock } from '../../../domain/wall-clock.js';
import { defineAction, type ActionFactory } from '../action.js';
import { gatewayError } from '../gateway-errors.js';

export interface CallStateReader {
  get(subId: string): Promise<LiveCall[]>;
}

/** Pure: the DTO from the binding, its live calls (newest first) and `now` (unix seconds). */
export function secretCallStatusDTO(b: Binding, live: LiveCall[], callNo: string | undefined, now: number, zone: string): Record<string, unknown> {
  if (b.expiresAt <= now) return { Status: 4, CallState: 'IDLE', LiveCalls: 0 };
  const mine = callNo ? live.filter((c) => c.phone_no === callNo || c.peer_no === callNo) : live;
  // The most advanced call in progress speaks for the binding: one talking beats one ringing.
  const rank = { talking: 4, ringing: 3, calling: 2, ended: 1 } as const;
  const top = [...mine].sort((a, c) => rank[c.state] - rank[a.state] || c.since - a.since)[0];
  return {
    Status: 1,
    CalledNo: b.x,
    ...(b.extension !== undefined ? { Extension: b.extension } : {}),
    CallState: top ? top.state.toUpperCase() : 'IDLE',
    ...(top ? { CallId: top.call_id, StateTime: formatWallClock(Math.floor(top.since / 1000), zone) } : {}),
    LiveCalls: mine.filter((c) => c.state !== 'ended').length,
  };
}

/**
 * The action reading live calls from `callState`, or from the context's events pipeline
 * (AppContext.callEvents) when none is given; registered in the actions index.
 */
export function queryCallStatusAction(callState?: CallStateReader): ActionFactory {
  return (f) =>
    defineAction({
      name: 'QueryCallStatus',
      schema: z.object({
        PoolKey: f.text('PoolKey', LIMITS.poolKey),
        SubsId: f.text('SubsId', LIMITS.subsId),
        CallNo: f.phone('CallNo').optional(),
      }),
      run: async (params, ctx) => {
        // An empty X lets the store take X from the SubsId itself (the id names its X).
        const b = await ctx.store.get(params.PoolKey, '', params.SubsId);
        if (!b) throw xlineError('SUBS_NOT_EXIST', 'no such subscription in this pool');
        const reader = callState ?? (ctx.callEvents ? { get: (s: string) => ctx.callEvents!.liveCalls(s) } : undefined);
        // Without a pipeline (the API started alone in tests) the action is not there.
        if (!reader) throw gatewayError.actionNotFound('QueryCallStatus');
        const live = await reader.get(params.SubsId);
        return { SecretCallStatusDTO: secretCallStatusDTO(b, live, params.CallNo, ctx.now, ctx.config.TIMEZONE) };
      },
    });
}

export default queryCallStatusAction();
