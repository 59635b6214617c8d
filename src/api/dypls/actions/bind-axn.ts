// BindAxn: X belongs to A; anyone (N) calling X reaches A, A calling X reaches the default B.
import { z } from 'zod';
import { defineAction, type ActionFactory } from '../action.js';
import { AXN_RING_KEYS, bind, bindShape } from './bind-common.js';

const factory: ActionFactory = (f) =>
  defineAction({
    name: 'BindAxn',
    schema: z.object({ ...bindShape(f, AXN_RING_KEYS), PhoneNoB: f.phone('PhoneNoB').optional() }),
    claimsNonce: true,
    run: (params, ctx) => bind('AXN', params, ctx),
  });
export default factory;
