// UpdateSubscription: one change per call, chosen by OperateType (Alibaba's list). AXG is not a
// mode xline has, so updateAxgGroup is refused with isv.FORBIDDEN_ACTION. updateRingConfig is
// xline's addition: Alibaba's request carries RingConfig without naming an OperateType for it.
import { z } from 'zod';
import type { BindingPatch } from '../../../domain/binding.js';
import { xlineError } from '../../../domain/errors.js';
import { gatewayError } from '../gateway-errors.js';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';
import { AXB_RING_KEYS, AXN_RING_KEYS, checkExpiration } from './bind-common.js';
import { assertRingTonesExist } from '../../../audio-files/ring-tones.js';

export const OPERATE_TYPES = [
  'updateNoA',
  'updateNoB',
  'updateExpire',
  'updateAxgGroup',
  'updateCallRestrict',
  'updateCallDisplayType',
  'updateOutId',
  'updateIsRecordingEnabled',
  'updateAsr',
  'updateRingConfig',
] as const;

function need<T>(v: T | undefined, name: string): T {
  if (v === undefined) throw gatewayError.missing(name);
  return v;
}

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'UpdateSubscription',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      SubsId: f.text('SubsId', LIMITS.subsId),
      PhoneNoX: f.phone('PhoneNoX'),
      OperateType: f.text('OperateType', 32),
      PhoneNoA: f.phone('PhoneNoA').optional(),
      PhoneNoB: f.phone('PhoneNoB').optional(),
      Expiration: f.expiration().optional(),
      CallRestrict: f.callRestrict(true).optional(),
      CallDisplayType: f.int('CallDisplayType', 0, 2).optional(),
      OutId: f.text('OutId', LIMITS.outId).optional(),
      IsRecordingEnabled: f.bool('IsRecordingEnabled').optional(),
      ASRStatus: f.bool('ASRStatus').optional(),
      ASRModelId: f.text('ASRModelId', LIMITS.asrModelId).optional(),
      RingConfig: f.ringConfig().optional(),
      GroupId: f.text('GroupId', 64).optional(),
    }),
    run: async (params, ctx) => {
      let patch: BindingPatch;
      switch (params.OperateType) {
        case 'updateNoA':
          patch = { a: need(params.PhoneNoA, 'PhoneNoA') };
          break;
        case 'updateNoB':
          patch = { b: need(params.PhoneNoB, 'PhoneNoB') };
          break;
        case 'updateExpire':
          patch = { expiresAt: checkExpiration(need(params.Expiration, 'Expiration'), ctx.now) };
          break;
        case 'updateAxgGroup':
          throw xlineError('FORBIDDEN_ACTION', 'AXG (number groups) is not supported by xline; updateAxgGroup is refused');
        case 'updateCallRestrict': {
          const r = need(params.CallRestrict, 'CallRestrict');
          patch = r === 'CONTROL_CLEAR_DISABLE' ? { clearCallRestrict: true } : { callRestrict: r };
          break;
        }
        case 'updateCallDisplayType':
          patch = { callDisplayType: need(params.CallDisplayType, 'CallDisplayType') };
          break;
        case 'updateOutId':
          patch = { outId: need(params.OutId, 'OutId') };
          break;
        case 'updateIsRecordingEnabled':
          patch = { recording: need(params.IsRecordingEnabled, 'IsRecordingEnabled') };
          break;
        case 'updateAsr': {
          const on = need(params.ASRStatus, 'ASRStatus');
          patch = { asrStatus: on };
          if (on) patch.asrModelId = need(params.ASRModelId, 'ASRModelId');
          break;
        }
        case 'updateRingConfig': {
          const rc = need(params.RingConfig, 'RingConfig');
          // Ring keys belong to the product: AXBRing_* for AXB, AXNRing_* for AXN and AXN extension.
          const current = await ctx.store.get(params.PoolKey, params.PhoneNoX, params.SubsId);
          if (!current) throw xlineError('SUBS_NOT_EXIST', `no binding ${params.SubsId} on this PhoneNoX`);
          const allowed = current.mode === 'AXB' ? AXB_RING_KEYS : AXN_RING_KEYS;
          for (const k of Object.keys(rc)) {
            if (!(allowed as readonly string[]).includes(k)) {
              throw xlineError('INVALID_PARAMETERS', `RingConfig key ${k} does not apply to a ${current.mode} binding (use ${allowed.join(', ')})`);
            }
          }
          await assertRingTonesExist(ctx.config, rc);
          patch = { ringConfig: rc };
          break;
        }
        default:
          throw xlineError('INVALID_PARAMETERS', `OperateType must be one of ${OPERATE_TYPES.join(', ')}`);
      }
      await ctx.store.update(params.PoolKey, params.PhoneNoX, params.SubsId, patch, { deadline: ctx.deadline });
      return {};
    },
  });
export default factory;
