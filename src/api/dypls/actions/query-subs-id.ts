// QuerySubsId: the SubsId of X's live binding. Alibaba sends PoolKey + PhoneNoX (one binding per X
// in AXN); for an AXB X, which carries many bindings, xline also accepts PhoneNoA or PhoneNoB.
import { z } from 'zod';
import { xlineError } from '../../../domain/errors.js';
import { LIMITS } from '../fields.js';
import { defineAction, type ActionFactory } from '../action.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'QuerySubsId',
    schema: z.object({
      PoolKey: f.text('PoolKey', LIMITS.poolKey),
      PhoneNoX: f.phone('PhoneNoX'),
      PhoneNoA: f.phone('PhoneNoA').optional(),
      PhoneNoB: f.phone('PhoneNoB').optional(),
    }),
    run: async (params, ctx) => {
      const subsId = await ctx.store.findSubsId(params.PoolKey, params.PhoneNoX, params.PhoneNoA ?? params.PhoneNoB);
      if (!subsId) throw xlineError('SUBS_NOT_EXIST', 'no live binding found on this PhoneNoX');
      return { SubsId: subsId };
    },
  });
export default factory;
