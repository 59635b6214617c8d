// ReleaseSecretNo: gives a pool's X back to the inventory (refused while X has live bindings).
import { z } from 'zod';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'ReleaseSecretNo',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      SecretNo: f.phone('SecretNo'),
    }),
    run: async (params, ctx) => {
      await ctx.store.releaseNumber(params.PoolKey, params.SecretNo, { deadline: ctx.deadline });
      return {};
    },
  });
export default factory;
