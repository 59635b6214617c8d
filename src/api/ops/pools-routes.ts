// Pools and number inventory (DESIGN §4): create/update a pool, add X numbers to it, read its
// counts, list pools, import inventory for BuySecretNo. Bearer token required (see auth.ts).
import type { FastifyInstance } from 'fastify';
import type { JSONSchema } from 'json-schema-to-ts';
import type { CountryCode } from 'libphonenumber-js';
import type { AppContext } from '../../context.js';
import { canonicalNumber } from '../../domain/numbers.js';
import { AREA_CODE, normalizeAreaCode } from '../../domain/huawei-binding.js';
import type { NumberEntry } from '../../store/types.js';
import { ringConfigSchema } from './bindings-schemas.js';
import { errorSchema, OpsError, opsError } from './errors.js';
import { assertRingTonesExist } from '../../audio-files/ring-tones.js';
import { typedRoutes } from './typed-routes.js';

const MAX_NUMBERS_PER_REQUEST = 10_000;

const poolKeyParam = {
  type: 'object',
  properties: { poolKey: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
  required: ['poolKey'],
} as const;

const numberFields = {
  number: { type: 'string', minLength: 1, maxLength: 32 },
  city: { type: 'string', minLength: 1, maxLength: 32 },
} as const;

/** POST bodies of numbers; pool numbers may carry an area code, inventory numbers not (yet). */
const numbersBodyOf = <P extends Record<string, JSONSchema>>(properties: P) =>
  ({
    type: 'object',
    properties: {
      numbers: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_NUMBERS_PER_REQUEST,
        items: { type: 'object', properties, required: ['number', 'city'], additionalProperties: false },
      },
    },
    required: ['numbers'],
    additionalProperties: false,
  }) as const;
const numbersBody = numbersBodyOf({
  ...numberFields,
  areaCode: {
    type: 'string',
    pattern: AREA_CODE.source,
    description: "city code with its leading 0 (0755, 010; 755 gains its 0), which Huawei's areaCode matches",
  },
} as const);
const inventoryBody = numbersBodyOf(numberFields);

const addResult = {
  type: 'object',
  properties: {
    added: { type: 'integer' },
    existing: { type: 'integer' },
    conflicts: { type: 'array', items: { type: 'string' }, description: 'numbers already in another pool (or in a pool, for inventory); not added' },
  },
  required: ['added', 'existing', 'conflicts'],
} as const;

const poolInfo = {
  type: 'object',
  properties: {
    poolKey: { type: 'string' },
    name: { type: 'string' },
    strictCity: { type: 'boolean' },
    ringConfig: ringConfigSchema,
    numbers: { type: 'integer' },
    numbersInUse: { type: 'integer' },
    bindings: { type: 'integer' },
    byCity: { type: 'object', additionalProperties: { type: 'integer' } },
    byAreaCode: { type: 'object', additionalProperties: { type: 'integer' }, description: 'numbers added with an area code, by area code' },
  },
  required: ['poolKey', 'name', 'strictCity', 'numbers', 'numbersInUse', 'bindings', 'byCity'],
} as const;

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema };

/** Canonical numbers, or a 400 naming every number that is not one (nothing is written). */
function canonicalEntries(entries: NumberEntry[], country: CountryCode): NumberEntry[] {
  const bad: string[] = [];
  const out = entries.map((e) => {
    const canonical = canonicalNumber(e.number, country);
    if (!canonical) bad.push(e.number);
    const areaCode = normalizeAreaCode(e.areaCode);
    return { number: canonical ?? '', city: e.city, ...(areaCode ? { areaCode } : {}) };
  });
  if (bad.length) {
    throw new OpsError(400, 'isv.MOBILE_NUMBER_ILLEGAL', `not valid phone numbers: ${bad.slice(0, 20).join(', ')}${bad.length > 20 ? ', …' : ''}`);
  }
  return out;
}

/** The ops plugin of pools and their numbers, and of the inventory. */
export async function poolsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  poolRoutes(app, ctx);
  numbersRoutes(app, ctx);
}

/** Create or update, read and list pools. */
function poolRoutes(scope: FastifyInstance, ctx: AppContext): void {
  const app = typedRoutes(scope);
  app.put(
    '/pools/:poolKey',
    {
      schema: {
        summary: 'Create or update a number pool',
        tags: ['pools'],
        params: poolKeyParam,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64 },
            strictCity: { type: 'boolean', default: false, description: 'ExpectCity strict: no number of that city → isv.NO_AVAILABLE_NUMBER' },
            ringConfig: { ...ringConfigSchema, description: 'pool-level default ring tones' },
          },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 200: poolInfo, ...errors },
      },
    },
    async (req) => {
      const { name, strictCity = false, ringConfig } = req.body;
      await assertRingTonesExist(ctx.config, ringConfig);
      const deadline = req.storeDeadline;
      await ctx.store.upsertPool(req.params.poolKey, { name, strictCity, ...(ringConfig ? { ringConfig } : {}) }, { deadline });
      deadline?.renew();
      const info = await ctx.store.getPool(req.params.poolKey, { deadline });
      if (!info) throw opsError.notFound(`pool ${req.params.poolKey}`);
      return info;
    },
  );

  app.get(
    '/pools/:poolKey',
    { schema: { summary: 'A pool with exact counts of numbers and bindings', tags: ['pools'], params: poolKeyParam, response: { 200: poolInfo, ...errors } } },
    async (req) => {
      const info = await ctx.store.getPool(req.params.poolKey, { deadline: req.storeDeadline });
      if (!info) throw opsError.notFound(`pool ${req.params.poolKey}`);
      return info;
    },
  );

  app.get(
    '/pools',
    {
      schema: {
        summary: 'Pool keys',
        tags: ['pools'],
        response: { 200: { type: 'object', properties: { pools: { type: 'array', items: { type: 'string' } } }, required: ['pools'] }, ...errors },
      },
    },
    async () => ({ pools: await ctx.store.listPools() }),
  );
}

/** Numbers added to a pool, and inventory numbers for BuySecretNo. */
function numbersRoutes(scope: FastifyInstance, ctx: AppContext): void {
  const app = typedRoutes(scope);
  const country = ctx.config.DEFAULT_COUNTRY as CountryCode;

  app.post(
    '/pools/:poolKey/numbers',
    {
      schema: {
        summary: 'Add X numbers the operator owns on its trunks to a pool',
        tags: ['pools'],
        params: poolKeyParam,
        body: numbersBody,
        response: { 200: addResult, ...errors },
      },
    },
    async (req) => ctx.store.addNumbers(req.params.poolKey, canonicalEntries(req.body.numbers, country), { deadline: req.storeDeadline }),
  );

  app.post(
    '/numbers',
    {
      schema: {
        summary: 'Import inventory numbers (not in any pool yet) that BuySecretNo draws from',
        tags: ['numbers'],
        body: inventoryBody,
        response: { 200: addResult, ...errors },
      },
    },
    async (req) => ctx.store.addInventory(canonicalEntries(req.body.numbers, country), { deadline: req.storeDeadline }),
  );
}
