// BindAxnExtension: one X shared by many A's, each reached by X + an extension of 1–3 digits.
// An explicit Extension needs an explicit PhoneNoX (Alibaba's rule); without one the store picks
// X and a free extension.
import { z } from 'zod';
import { xlineError } from '../../../domain/errors.js';
import { defineAction, type ActionFactory } from '../action.js';
import { AXN_RING_KEYS, bind, bindShape } from './bind-common.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'BindAxnExtension',
    schema: z.object({
      ...bindShape(f, AXN_RING_KEYS),
      PhoneNoB: f.phone('PhoneNoB').optional(),
      Extension: f.digits('Extension', 1, 3).optional(),
    }),
    claimsNonce: true,
    run: (params, ctx) => {
      if (params.Extension !== undefined && params.PhoneNoX === undefined) {
        throw xlineError('INVALID_PARAMETERS', 'Extension requires PhoneNoX');
      }
      return bind('AXE', params, ctx);
    },
  });
export default factory;
