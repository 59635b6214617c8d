// Errors of the ops REST API (/v1): `{ "error": { "code", "message" } }` with a proper 4xx/5xx.
// Store errors keep their Alibaba code (isv.POOLKEY_NOT_EXISTS, …) so both APIs share one list.
import { ERROR_CODES, type ErrorCode } from '../../domain/errors.js';

export class OpsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ERROR_CODES.POOLKEY_NOT_EXISTS]: 404,
  [ERROR_CODES.NO_NOT_EXIST]: 404,
  [ERROR_CODES.SUBS_NOT_EXIST]: 404,
  [ERROR_CODES.BIND_CONFLICT]: 409,
  [ERROR_CODES.UPDATE_CONFLICT]: 409,
  [ERROR_CODES.NO_AVAILABLE_NUMBER]: 409,
  [ERROR_CODES.FORBIDDEN_ACTION]: 403,
  [ERROR_CODES.FLOW_LIMIT]: 429,
  [ERROR_CODES.SYSTEM_ERROR]: 503,
};

/** HTTP status for a store/domain error code on /v1 (400 for the validation codes). */
export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

export const opsError = {
  unauthorized: () => new OpsError(401, 'UNAUTHORIZED', 'missing or wrong bearer token'),
  disabled: () => new OpsError(403, 'OPS_DISABLED', 'the ops API is disabled: OPS_TOKEN is not configured'),
  notFound: (what: string) => new OpsError(404, 'NOT_FOUND', `${what} not found`),
  invalid: (message: string) => new OpsError(400, 'INVALID_REQUEST', message),
};

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
