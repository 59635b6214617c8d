// BindAxb: A and B talk through X; each (X, A) and (X, B) pair is unique per X (store invariant).
import { z } from 'zod';
import { defineAction, type ActionFactory } from '../action.js';
import { AXB_RING_KEYS, bind, bindShape } from './bind-common.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'BindAxb',
    schema: z.object({ ...bindShape(f, AXB_RING_KEYS), PhoneNoB: f.phone('PhoneNoB') }),
    claimsNonce: true,
    run: (params, ctx) => bind('AXB', params, ctx),
  });
export default factory;
