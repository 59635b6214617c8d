// UnbindSubscription: removes one binding (PoolKey, SubsId, SecretNo = its X).
import { z } from 'zod';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'UnbindSubscription',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      SubsId: f.text('SubsId', LIMITS.subsId),
      SecretNo: f.phone('SecretNo'),
    }),
    run: async (params, ctx) => {
      await ctx.store.unbind(params.PoolKey, params.SecretNo, params.SubsId, { deadline: ctx.deadline });
      return {};
    },
  });
export default factory;
