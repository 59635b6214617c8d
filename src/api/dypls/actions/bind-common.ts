// What BindAxb, BindAxn and BindAxnExtension share: the parameters every bind accepts, the
// "Expiration at least one minute ahead" rule, and the SecretBindDTO answer.
import { z } from 'zod';
import type { Binding, Mode, RingKey } from '../../../domain/binding.js';
import { xerr } from '../../../domain/errors.js';
import type { BindRequest } from '../../../store/types.js';
import { assertRingTonesExist } from '../../../audio-files/ring-tones.js';
import { LIMITS, type Fields } from '../fields.js';
import type { ActionContext } from '../action.js';

export const AXB_RING_KEYS: readonly RingKey[] = ['AXBRing_A', 'AXBRing_B'];
export const AXN_RING_KEYS: readonly RingKey[] = ['AXNRing_AB', 'AXNRing_A', 'AXNRing_N'];

/** Parameters of every bind action (Alibaba's names). */
export function bindShape(f: Fields, ringKeys: readonly RingKey[]) {
  return {
    PoolKey: f.text('PoolKey', LIMITS.poolKey),
    PhoneNoA: f.phone('PhoneNoA'),
    PhoneNoX: f.phone('PhoneNoX').optional(),
    Expiration: f.expiration(),
    ExpectCity: f.text('ExpectCity', LIMITS.city).optional(),
    IsRecordingEnabled: f.bool('IsRecordingEnabled').optional(),
    OutId: f.text('OutId', LIMITS.outId).optional(),
    OutOrderId: f.text('OutOrderId', LIMITS.outOrderId).optional(),
    CallDisplayType: f.int('CallDisplayType', 0, 2).optional(),
    RingConfig: f.ringConfig(ringKeys).optional(),
    CallRestrict: f.callRestrict(false).optional(),
    ASRStatus: f.bool('ASRStatus').optional(),
    ASRModelId: f.text('ASRModelId', LIMITS.asrModelId).optional(),
  };
}

type BindShape = ReturnType<typeof bindShape>;
export type BindParams = z.output<z.ZodObject<BindShape>> & { PhoneNoB?: string; Extension?: string };

/** Alibaba: the expiration must be later than now by at least one minute. */
export function checkExpiration(expiresAt: number, now: number): number {
  if (expiresAt - now < 60) {
    throw xerr('EXPIRE_DATE_ILLEGAL', 'Expiration must be at least 1 minute in the future');
  }
  return expiresAt;
}

export function toBindRequest(mode: Mode, p: BindParams, now: number): BindRequest {
  if (p.PhoneNoB !== undefined && p.PhoneNoB === p.PhoneNoA) {
    throw xerr('INVALID_PARAMETERS', 'PhoneNoA and PhoneNoB must differ');
  }
  const req: BindRequest = {
    mode,
    poolKey: p.PoolKey,
    a: p.PhoneNoA,
    expiresAt: checkExpiration(p.Expiration, now),
    recording: p.IsRecordingEnabled ?? false,
    callDisplayType: p.CallDisplayType ?? 1,
  };
  // Only defined keys: the store writes what it is given.
  if (p.PhoneNoB !== undefined) req.b = p.PhoneNoB;
  if (p.PhoneNoX !== undefined) req.x = p.PhoneNoX;
  if (p.Extension !== undefined) req.extension = p.Extension;
  if (p.ExpectCity !== undefined) req.expectCity = p.ExpectCity;
  if (p.OutId !== undefined) req.outId = p.OutId;
  if (p.OutOrderId !== undefined) req.outOrderId = p.OutOrderId;
  if (p.RingConfig !== undefined && Object.keys(p.RingConfig).length) req.ringConfig = p.RingConfig;
  if (p.CallRestrict !== undefined) req.callRestrict = p.CallRestrict as BindRequest['callRestrict'];
  if (p.ASRStatus !== undefined) req.asrStatus = p.ASRStatus;
  if (p.ASRModelId !== undefined) req.asrModelId = p.ASRModelId;
  return req;
}

export function secretBindDTO(b: Binding): Record<string, unknown> {
  return {
    SecretBindDTO: {
      ...(b.extension !== undefined ? { Extension: b.extension } : {}),
      SubsId: b.subsId,
      SecretNo: b.x,
    },
  };
}

export async function bind(mode: Mode, p: BindParams, ctx: ActionContext) {
  const req = toBindRequest(mode, p, ctx.now);
  // A RingConfig naming a tone nobody uploaded (PUT /v1/ring-tones/{id}) is refused here.
  await assertRingTonesExist(ctx.config, req.ringConfig);
  const binding = await ctx.store.bind(req, { deadline: ctx.deadline, nonce: ctx.nonce });
  return secretBindDTO(binding);
}
