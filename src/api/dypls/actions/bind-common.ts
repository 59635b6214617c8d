// What BindAxb, BindAxn and BindAxnExtension share: the parameters every bind accepts, the
// "Expiration at least one minute ahead" rule, and the SecretBindDTO answer.
import { z } from 'zod';
import type { Binding, Mode, RingKey } from '../../../domain/binding.js';
import { xlineError } from '../../../domain/errors.js';
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
    throw xlineError('EXPIRE_DATE_ILLEGAL', 'Expiration must be at least 1 minute in the future');
  }
  return expiresAt;
}

export function toBindRequest(mode: Mode, params: BindParams, now: number): BindRequest {
  if (params.PhoneNoB !== undefined && params.PhoneNoB === params.PhoneNoA) {
    throw xlineError('INVALID_PARAMETERS', 'PhoneNoA and PhoneNoB must differ');
  }
  const req: BindRequest = {
    mode,
    poolKey: params.PoolKey,
    a: params.PhoneNoA,
    expiresAt: checkExpiration(params.Expiration, now),
    recording: params.IsRecordingEnabled ?? false,
    callDisplayType: params.CallDisplayType ?? 1,
  };
  // Only defined keys: the store writes what it is given.
  if (params.PhoneNoB !== undefined) req.b = params.PhoneNoB;
  if (params.PhoneNoX !== undefined) req.x = params.PhoneNoX;
  if (params.Extension !== undefined) req.extension = params.Extension;
  if (params.ExpectCity !== undefined) req.expectCity = params.ExpectCity;
  if (params.OutId !== undefined) req.outId = params.OutId;
  if (params.OutOrderId !== undefined) req.outOrderId = params.OutOrderId;
  if (params.RingConfig !== undefined && Object.keys(params.RingConfig).length) req.ringConfig = params.RingConfig;
  if (params.CallRestrict !== undefined) req.callRestrict = params.CallRestrict as BindRequest['callRestrict'];
  if (params.ASRStatus !== undefined) req.asrStatus = params.ASRStatus;
  if (params.ASRModelId !== undefined) req.asrModelId = params.ASRModelId;
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

export async function bind(mode: Mode, params: BindParams, ctx: ActionContext) {
  const req = toBindRequest(mode, params, ctx.now);
  // A RingConfig naming a tone nobody uploaded (PUT /v1/ring-tones/{id}) is refused here.
  await assertRingTonesExist(ctx.config, req.ringConfig);
  const binding = await ctx.store.bind(req, { deadline: ctx.deadline, nonce: ctx.nonce });
  return secretBindDTO(binding);
}
