// QuerySecretNoRemain: how many inventory numbers (operator-imported, not yet in a pool) BuySecretNo
// could take in a city, optionally with a number prefix.
import { z } from 'zod';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'QuerySecretNoRemain',
    schema: z.object({
      // 1 virtual operator (170/171), 2 carrier, 3 "95": xline keeps one inventory and accepts all.
      SpecId: f.int('SpecId', 1, 3),
      City: f.text('City', LIMITS.city),
      SecretNo: f.digits('SecretNo', 1, 18).optional(),
    }),
    run: async (p, ctx) => {
      const amount = await ctx.store.countInventory(p.City, p.SecretNo);
      return { SecretRemainDTO: { City: p.City, Amount: amount } };
    },
  });
export default factory;
