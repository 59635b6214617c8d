// How an ops route declares what it takes: once, as the JSON schema in its route options. ajv
// validates with it, @fastify/swagger publishes it in the OpenAPI document, and json-schema-to-ts
// gives the handler its params, querystring, body and headers types from it (a fastify type
// provider), so no hand-written generic repeats the schema. Schemas are written `as const` for
// that. Replies are not typed from the response schemas: the stores return interfaces, which
// json-schema-to-ts's open objects (an index signature) would not accept.
import type { FastifyInstance, FastifyTypeProvider } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

interface SchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}

/** The same instance, with the request types of its routes read from their schemas. */
export function typedRoutes(app: FastifyInstance) {
  return app.withTypeProvider<SchemaTypes>();
}
