// Errors of the POP gateway: requests that never reach an action. Alibaba answers these with a
// 4xx status and {RequestId, HostId, Code, Message, Recommend}; codes and messages as Alibaba's
// (POP common error list), so SDKs that branch on err.code keep working.

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export const gatewayError = {
  /** POP names a missing parameter in the code itself: MissingPhoneNoA, MissingTimestamp, … */
  missing: (name: string) => new GatewayError(400, `Missing${name}`, `${name} is mandatory for this action.`),
  invalidParameter: (message: string) => new GatewayError(400, 'InvalidParameter', message),
  accessKeyNotFound: () => new GatewayError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  signatureMismatch: (serverStringToSign: string) =>
    new GatewayError(
      400,
      'SignatureDoesNotMatch',
      `Specified signature is not matched with our calculation. server string to sign is:${serverStringToSign}`,
    ),
  incompleteSignature: (message = 'The request signature does not conform to Aliyun standards.') =>
    new GatewayError(400, 'IncompleteSignature', message),
  timestampFormat: () =>
    new GatewayError(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.'),
  timestampExpired: () => new GatewayError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'),
  nonceUsed: () => new GatewayError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'),
  throttled: () => new GatewayError(400, 'Throttling.User', 'Request was denied due to user flow control.'),
  actionNotFound: (action: string) =>
    new GatewayError(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method. (${action})`),
  invalidVersion: () => new GatewayError(400, 'InvalidVersion', 'Specified parameter Version is not valid.'),
  unsupportedFormat: (format: string) =>
    new GatewayError(400, 'InvalidParameter.Format', `Format "${format}" is not supported here; use Format=JSON.`),
  forbiddenNoKeys: () =>
    new GatewayError(403, 'Forbidden.AccessKeyDisabled', 'The dypls API is disabled: ACCESS_KEYS is not configured.'),
  bodyTooLarge: () => new GatewayError(413, 'RequestEntityTooLarge', 'The request body is too large.'),
  requestTimeout: (message: string) => new GatewayError(408, 'RequestTimeout', message),
  badRequest: (message: string) => new GatewayError(400, 'InvalidParameter', message),
  methodNotAllowed: () => new GatewayError(405, 'UnsupportedHTTPMethod', 'Use GET or POST.'),
} as const;
