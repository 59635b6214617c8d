// JSON schemas of /v1/bindings (bindings-routes.ts): what ajv checks, what the OpenAPI document
// shows, and (typed-routes.ts) the handlers' request types.
import { MODES, RING_KEYS } from '../../domain/binding.js';
import { LIMITS } from '../dypls/fields.js';
import { errorSchema } from './errors.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const phone = { type: 'string', minLength: 3, maxLength: 32 } as const;

export const subsIdParam = { type: 'object', properties: { subsId: { type: 'string', pattern: '^\\+?\\d{4,40}$' } }, required: ['subsId'] } as const;

/** Ring tone ids by ring key; pools use the same shape (pools-routes.ts). */
export const ringConfigSchema = {
  type: 'object',
  properties: Object.fromEntries(RING_KEYS.map((k) => [k, { type: 'string', pattern: '^[\\w.-]{1,64}$' } as const])),
  additionalProperties: false,
} as const;

const expirationText = {
  type: 'string',
  maxLength: 40,
  description: "'YYYY-MM-DD HH:mm:ss' in TIMEZONE (as Alibaba's Expiration), or ISO 8601 with a zone; at least 1 minute ahead",
} as const;

export const bindingSchema = {
  type: 'object',
  properties: {
    subsId: { type: 'string' },
    mode: { type: 'string', enum: [...MODES] },
    poolKey: { type: 'string' },
    x: { type: 'string' },
    a: { type: 'string' },
    b: { type: 'string' },
    extension: { type: 'string' },
    expiresAt: { type: 'integer', description: 'unix seconds' },
    expiration: { type: 'string', description: 'expiresAt as YYYY-MM-DD HH:mm:ss in TIMEZONE' },
    createdAt: { type: 'integer' },
    callRestrict: { type: 'string' },
    ringConfig: ringConfigSchema,
    recording: { type: 'boolean' },
    callDisplayType: { type: 'integer' },
    outId: { type: 'string' },
    outOrderId: { type: 'string' },
    expectCity: { type: 'string' },
  },
  required: ['subsId', 'mode', 'poolKey', 'x', 'a', 'expiresAt', 'recording'],
} as const;

export const bindingErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema };

/** The search keys of GET /v1/bindings: exactly one is given. */
export const SEARCH_KEYS = ['x', 'subs_id', 'a', 'b', 'number', 'out_id'] as const;

export const searchQuery = {
  type: 'object',
  properties: {
    x: phone,
    subs_id: text(64),
    a: phone,
    b: phone,
    number: phone,
    out_id: text(LIMITS.outId),
    pool_key: text(LIMITS.poolKey),
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  },
  additionalProperties: false,
} as const;

export const searchResult = {
  type: 'object',
  properties: { items: { type: 'array', items: bindingSchema }, truncated: { type: 'boolean' } },
  required: ['items', 'truncated'],
} as const;

export const createBody = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: [...MODES] },
    poolKey: text(LIMITS.poolKey),
    a: phone,
    b: phone,
    x: phone,
    extension: { type: 'string', pattern: '^\\d{1,4}$' },
    expiration: expirationText,
    recording: { type: 'boolean' },
    callRestrict: { type: 'string', enum: ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE'] },
    outId: text(LIMITS.outId),
    ringConfig: ringConfigSchema,
  },
  required: ['mode', 'poolKey', 'a', 'expiration'],
  additionalProperties: false,
} as const;

export const patchBody = {
  type: 'object',
  properties: {
    b: phone,
    expiration: expirationText,
    callRestrict: { type: 'string', enum: ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE', 'CONTROL_CLEAR_DISABLE'] },
    recording: { type: 'boolean' },
  },
  additionalProperties: false,
  minProperties: 1,
} as const;
