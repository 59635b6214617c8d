// QuerySubscriptionDetail: one binding as Alibaba's SecretBindDetailDTO.
import { z } from 'zod';
import type { Binding } from '../../../domain/binding.js';
import { xlineError } from '../../../domain/errors.js';
import { LIMITS } from '../fields.js';
import { formatWallClock } from '../../../domain/wall-clock.js';
import { defineAction, type ActionFactory } from '../action.js';

export function secretBindDetailDTO(b: Binding, now: number, zone: string): Record<string, unknown> {
  return {
    // 1 live, 0 expired (an expired binding may be read until the sweeper reclaims it).
    Status: b.expiresAt > now ? 1 : 0,
    SubsId: b.subsId,
    PhoneNoA: b.a,
    ...(b.b !== undefined ? { PhoneNoB: b.b } : {}),
    PhoneNoX: b.x,
    ...(b.extension !== undefined ? { Extension: b.extension } : {}),
    GmtCreate: formatWallClock(b.createdAt, zone),
    ExpireDate: formatWallClock(b.expiresAt, zone),
    NeedRecord: b.recording,
    ASRStatus: b.asrStatus ?? false,
    ...(b.asrModelId !== undefined ? { ASRModelId: b.asrModelId } : {}),
    // Alibaba omits CallRestrict when none is set.
    ...(b.callRestrict !== undefined ? { CallRestrict: b.callRestrict } : {}),
    // xline's extras, beyond Alibaba's DTO (clients ignore unknown fields).
    CallDisplayType: b.callDisplayType,
    ...(b.outId !== undefined ? { OutId: b.outId } : {}),
    ...(b.outOrderId !== undefined ? { OutOrderId: b.outOrderId } : {}),
    ...(b.ringConfig !== undefined ? { RingConfig: JSON.stringify(b.ringConfig) } : {}),
  };
}

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'QuerySubscriptionDetail',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      SubsId: f.text('SubsId', LIMITS.subsId),
      PhoneNoX: f.phone('PhoneNoX'),
    }),
    run: async (params, ctx) => {
      const b = await ctx.store.get(params.PoolKey, params.PhoneNoX, params.SubsId);
      if (!b) throw xlineError('SUBS_NOT_EXIST', `no binding ${params.SubsId} on this PhoneNoX`);
      return { SecretBindDetailDTO: secretBindDetailDTO(b, ctx.now, ctx.config.TIMEZONE) };
    },
  });
export default factory;
