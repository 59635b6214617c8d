// Answers of the Huawei API: `{resultcode, resultdesc, ...}` with the code table's HTTP status,
// and the Huawei code a store/domain error stands for.
import type { FastifyReply } from 'fastify';
import { ERROR_CODES, XlineError, type ErrorCode } from '../../domain/errors.js';
import { HuaweiError, HW_CODES, type HwCode } from './result-codes.js';

export const SUCCESS = { resultcode: '0', resultdesc: 'Success' } as const;

/** Store/domain error code → Huawei code. A mode may override entries (AX: a taken X is 1011005). */
const FROM_STORE: Record<ErrorCode, HwCode> = {
  [ERROR_CODES.NO_AVAILABLE_NUMBER]: '1011002',
  [ERROR_CODES.BIND_CONFLICT]: '1012010',
  [ERROR_CODES.UPDATE_CONFLICT]: '1012010',
  [ERROR_CODES.NO_NOT_EXIST]: '1012001',
  [ERROR_CODES.POOLKEY_NOT_EXISTS]: '1012001',
  [ERROR_CODES.SUBS_NOT_EXIST]: '1016001',
  [ERROR_CODES.EXPIRE_DATE_ILLEGAL]: '1010002',
  [ERROR_CODES.MOBILE_NUMBER_ILLEGAL]: '1010002',
  [ERROR_CODES.ILLEGAL_ARGUMENT]: '1010002',
  [ERROR_CODES.INVALID_PARAMETERS]: '1010002',
  [ERROR_CODES.FORBIDDEN_ACTION]: '1010040',
  [ERROR_CODES.FLOW_LIMIT]: '1010001',
  [ERROR_CODES.SYSTEM_ERROR]: '1010001',
};

export type StoreCodeMap = Partial<Record<ErrorCode, HwCode>>;

/** The HuaweiError for any error (a bug or an unknown error: 1010001, which says retry). */
export function toHuaweiError(err: unknown, overrides?: StoreCodeMap): HuaweiError {
  if (err instanceof HuaweiError) return err;
  if (err instanceof XlineError) {
    const code = overrides?.[err.code] ?? FROM_STORE[err.code];
    // validation codes keep the store's message (it names what was wrong)
    return new HuaweiError(code, code === '1010002' ? `Invalid request.${err.message}` : undefined);
  }
  return new HuaweiError('1010001');
}

export function sendError(reply: FastifyReply, e: HuaweiError): FastifyReply {
  return reply.code(e.status).send({ resultcode: e.code, resultdesc: e.message });
}

export function errorBody(code: HwCode, desc?: string) {
  return { resultcode: code, resultdesc: desc ?? HW_CODES[code].desc };
}
