// QuerySecretNoRemain: how many inventory numbers (operator-imported, not yet in a pool) BuySecretNo
// could take in a city, optionally with a number prefix. City 全国 (or 全国通用) answers the
// nationwide total; 全国列表 also lists every city that has numbers, as Alibaba does.
import { z } from 'zod';
import { xlineError } from '../../../domain/errors.js';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionContext, type ActionFactory } from '../action.js';

const NATIONWIDE = new Set(['全国', '全国通用']);
const NATIONWIDE_LIST = '全国列表';

async function perCity(ctx: ActionContext, prefix: string | undefined): Promise<Array<{ City: string; Amount: number }>> {
  const cities = (await ctx.store.inventoryCities()).sort();
  const amounts = await Promise.all(cities.map((c) => ctx.store.countInventory(c, prefix)));
  return cities.map((City, i) => ({ City, Amount: amounts[i]! }));
}

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'QuerySecretNoRemain',
    schema: z.object({
      // 1 virtual operator (170/171), 2 carrier, 3 "95": xline keeps one inventory and accepts all.
      SpecId: f.int('SpecId', 1, 3),
      City: f.text('City', LIMITS.city),
      SecretNo: f.digits('SecretNo', 1, 18).optional(),
    }),
    run: async (params, ctx) => {
      if (NATIONWIDE.has(params.City) || params.City === NATIONWIDE_LIST) {
        const list = await perCity(ctx, params.SecretNo);
        const Amount = list.reduce((n, c) => n + c.Amount, 0);
        return {
          SecretRemainDTO: {
            City: params.City,
            Amount,
            ...(params.City === NATIONWIDE_LIST ? { RemainDTOList: { remainDTO: list.filter((c) => c.Amount > 0) } } : {}),
          },
        };
      }
      const amount = await ctx.store.countInventory(params.City, params.SecretNo);
      return { SecretRemainDTO: { City: params.City, Amount: amount } };
    },
  });
export default factory;
