// Huawei PrivateNumber result codes (HUAWEI.md §1, §4): one table from code to HTTP status and
// resultdesc. Statuses Huawei's text leaves open ("?" there) are xline's choice, marked
// `chosen`: change them here and nowhere else (README, "Huawei PrivateNumber API").

export interface ResultCode {
  status: number;
  desc: string;
  /** true: the HTTP status is xline's choice (HUAWEI.md gives none). */
  chosen?: true;
}

export const HW_CODES = {
  '0': { status: 200, desc: 'Success' },
  // authentication (§1)
  '1023006': { status: 400, desc: 'Authorization header missing.' },
  '1023007': { status: 400, desc: 'realm missing in Authorization.' },
  '1023008': { status: 400, desc: 'profile missing in Authorization.' },
  '1023009': { status: 400, desc: 'realm must be SDP.' },
  '1023010': { status: 400, desc: 'profile must be UsernameToken.' },
  '1023011': { status: 400, desc: 'type must be Appkey.' },
  '1023012': { status: 400, desc: 'type missing in Authorization.' },
  '1023013': { status: 400, desc: 'WSSE not contained in Authorization.' },
  '1023026': { status: 400, desc: 'X-WSSE header missing.' },
  '1023027': { status: 400, desc: 'Username missing in X-WSSE.' },
  '1023028': { status: 400, desc: 'Nonce missing in X-WSSE.' },
  '1023029': { status: 400, desc: 'Created missing in X-WSSE.' },
  '1023030': { status: 400, desc: 'PasswordDigest missing in X-WSSE.' },
  '1023033': { status: 400, desc: 'Not found X-AKSK field.' },
  '1023034': { status: 400, desc: 'UserName missing in X-AKSK.' },
  '1023035': { status: 400, desc: 'Nonce missing in X-AKSK.' },
  '1023036': { status: 400, desc: 'Created missing in X-AKSK.' },
  '1023037': { status: 400, desc: 'PasswordDigest missing in X-AKSK.' },
  '1010010': { status: 401, desc: 'Invalid digest.' },
  '1010013': { status: 401, desc: 'Time out limit.' },
  '1010003': { status: 401, desc: 'Invalid app_key.', chosen: true },
  // business (§4)
  '1010001': { status: 503, desc: 'Internal system error.', chosen: true },
  '1010002': { status: 403, desc: 'Invalid request' },
  '1010040': { status: 403, desc: 'app_key not allowed to invoke this API.', chosen: true },
  '1011002': { status: 403, desc: 'Insufficient number of resources.', chosen: true },
  '1011003': { status: 403, desc: 'Over the resource limit.', chosen: true },
  '1011005': { status: 403, desc: 'Resources already allocated.', chosen: true },
  '1012001': { status: 403, desc: 'Resource of number is not to be applied.' },
  '1012007': { status: 404, desc: 'The record does not exist.', chosen: true },
  '1012010': { status: 403, desc: 'The number has been bound.', chosen: true },
  '1016001': { status: 404, desc: 'The record does not exist.', chosen: true },
  '1016002': { status: 403, desc: 'The record already exists.', chosen: true },
  '1020152': { status: 404, desc: 'Invalid sessionId.', chosen: true },
  '1020167': { status: 403, desc: 'No extension number available.', chosen: true },
} as const satisfies Record<string, ResultCode>;

export type HwCode = keyof typeof HW_CODES;

/** A Huawei-API refusal: answered with the table's HTTP status and {resultcode, resultdesc}. */
export class HuaweiError extends Error {
  readonly status: number;
  constructor(
    readonly code: HwCode,
    /** resultdesc; default the table's. */
    desc?: string,
  ) {
    super(desc ?? HW_CODES[code].desc);
    this.name = 'HuaweiError';
    this.status = HW_CODES[code].status;
  }
}

export const hwErr = (code: HwCode, desc?: string) => new HuaweiError(code, desc);

/** 1010002 naming the bad parameter, as Huawei does: `Invalid request.callerNum`. */
export const invalid = (param: string) => new HuaweiError('1010002', `Invalid request.${param}`);
