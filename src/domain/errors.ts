// Business error codes: Alibaba dypls codes where Alibaba has one (DESIGN §4).
// Thrown by the store and the API; the dypls adapter turns them into {Code, Message} with HTTP 200.

export const ERROR_CODES = {
  NO_AVAILABLE_NUMBER: 'isv.NO_AVAILABLE_NUMBER',
  BIND_CONFLICT: 'isv.BIND_CONFLICT',
  EXPIRE_DATE_ILLEGAL: 'isv.EXPIRE_DATE_ILLEGAL',
  MOBILE_NUMBER_ILLEGAL: 'isv.MOBILE_NUMBER_ILLEGAL',
  NO_NOT_EXIST: 'isv.NO_NOT_EXIST',
  SUBS_NOT_EXIST: 'isv.SUBS_NOT_EXIST',
  POOLKEY_NOT_EXISTS: 'isv.POOLKEY_NOT_EXISTS',
  ILLEGAL_ARGUMENT: 'isv.ILLEGAL_ARGUMENT',
  INVALID_PARAMETERS: 'isv.INVALID_PARAMETERS',
  FORBIDDEN_ACTION: 'isv.FORBIDDEN_ACTION',
  UPDATE_CONFLICT: 'isv.UPDATE_CONFLICT',
  FLOW_LIMIT: 'isv.FLOW_LIMIT',
  SYSTEM_ERROR: 'isp.SYSTEM_ERROR',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class XlineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Which rule refused (e.g. a bind conflict's 'a', 'ext', 'ext-full'), for dialects that tell them apart. */
    readonly rule?: string,
  ) {
    super(message);
    this.name = 'XlineError';
  }
}

/** The XlineError of a code named by its key: `xlineError('SUBS_NOT_EXIST', 'no live binding …')`. */
export const xlineError = (code: keyof typeof ERROR_CODES, message: string, rule?: string) => new XlineError(ERROR_CODES[code], message, rule);
