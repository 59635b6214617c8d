// BuySecretNo: moves one inventory number of City (optional prefix SecretNo) into the pool.
import { z } from 'zod';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'BuySecretNo',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      SpecId: f.int('SpecId', 1, 3),
      City: f.text('City', LIMITS.city),
      SecretNo: f.digits('SecretNo', 1, 18).optional(),
      DisplayPool: f.bool('DisplayPool').optional(),
    }),
    run: async (params, ctx) => {
      const n = await ctx.store.buyNumber(params.PoolKey, params.City, params.SecretNo, { deadline: ctx.deadline });
      return { SecretBuyInfoDTO: { SecretNo: n.number } };
    },
  });
export default factory;
