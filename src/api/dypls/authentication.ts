// dypls authentication, as Alibaba's POP gateway does it before an action runs: common
// parameters, the Timestamp window, AccessKeyId, the signature (POP v1 HMAC-SHA1 as pop-core
// sends, or V3 ACS3-HMAC-SHA256 as the Tea SDKs send), Version, Action and per-key throttling;
// then the SignatureNonce claimed once (replays refused), around the action's run.
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { ERROR_CODES, XlineError } from '../../domain/errors.js';
import { parsePopTimestamp } from '../../domain/wall-clock.js';
import { StorageUnavailableError, type Deadline } from '../../store/deadline.js';
import { NonceReplayError, type NonceClaim } from '../../store/types.js';
import type { DyplsAction } from './action.js';
import { gatewayError } from './gateway-errors.js';
import { NONCE_TTL_SECONDS, type NonceClaimer } from './nonce.js';
import { RateLimiter } from './rate-limit.js';
import { canonicalQuery, percentEncode, sign, signatureMatches } from './signature.js';
import { canonicalRequestV3, parseV3Authorization, sha256Hex, signV3, V3_ALGORITHM } from './signature-v3.js';

export const API_VERSION = '2017-05-25';
/** POP refuses Timestamps more than 15 minutes away from its clock, either way. */
export const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;
const COMMON_REQUIRED = ['AccessKeyId', 'Signature', 'SignatureNonce', 'Timestamp', 'SignatureMethod', 'SignatureVersion', 'Version', 'Action'];
/** Parameters of the gateway, not of the action. */
export const COMMON = new Set([...COMMON_REQUIRED, 'Format', 'SecurityToken', 'RegionId']);
const MAX_NONCE = 128;
/** Headers a V3 signature must cover, or a replay could swap them. */
const V3_SIGNED = ['x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

export type Params = Record<string, string>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The form body as received (dypls routes only). */
    rawBody?: string;
  }
}

export interface Authenticated {
  action: DyplsAction<any>;
  accessKeyId: string;
  nonce: string;
  /** How long the nonce must be remembered: until its Timestamp leaves the window. */
  nonceTtl: number;
}

/** What authentication checks a request against: the access keys, the actions, the per-key rate. */
interface Gate {
  keys: ReadonlyMap<string, string>;
  actions: ReadonlyMap<string, DyplsAction<any>>;
  limiter: RateLimiter;
}

/**
 * Authenticates a request (V3 when its Authorization header says ACS3-…, POP v1 otherwise) and
 * resolves its action; every refusal is a GatewayError in Alibaba's words.
 */
export function authenticator(ctx: AppContext, actions: ReadonlyMap<string, DyplsAction<any>>): (req: FastifyRequest, query: Params, params: Params) => Authenticated {
  const gate: Gate = { keys: ctx.config.ACCESS_KEYS, actions, limiter: new RateLimiter(ctx.config.API_RATE_LIMIT) };
  return (req, query, params) => {
    const authorization = req.headers.authorization;
    return typeof authorization === 'string' && authorization.startsWith('ACS3-')
      ? authenticateV3(gate, req, query, authorization)
      : authenticateV1(gate, req.method, params);
  };
}

/** Returns the nonce TTL in seconds: a replay is refused by the window once Timestamp + 15 min is past. */
function checkTimestamp(timestamp: string): number {
  const t = parsePopTimestamp(timestamp);
  if (t === undefined) throw gatewayError.timestampFormat();
  const now = Date.now();
  if (Math.abs(now - t) > TIMESTAMP_WINDOW_MS) throw gatewayError.timestampExpired();
  // plus a minute for instances whose clocks disagree; at most NONCE_TTL_SECONDS
  return Math.min(NONCE_TTL_SECONDS, Math.ceil((t + TIMESTAMP_WINDOW_MS - now) / 1000) + 60);
}

function secretOf(gate: Gate, accessKeyId: string): string {
  if (gate.keys.size === 0) throw gatewayError.forbiddenNoKeys();
  const secret = gate.keys.get(accessKeyId);
  if (secret === undefined) throw gatewayError.accessKeyNotFound();
  return secret;
}

/** After the signature: Version, Action, nonce length, throttling (signed requests only). */
function resolveAction(gate: Gate, version: string, actionName: string, accessKeyId: string, nonce: string, nonceTtl: number): Authenticated {
  if (version !== API_VERSION) throw gatewayError.invalidVersion();
  const action = gate.actions.get(actionName);
  if (!action) throw gatewayError.actionNotFound(actionName);
  if (nonce.length > MAX_NONCE) throw gatewayError.badRequest(`SignatureNonce is longer than ${MAX_NONCE} characters`);
  if (!gate.limiter.take(accessKeyId)) throw gatewayError.throttled();
  return { action, accessKeyId, nonce, nonceTtl };
}

/** POP signature v1: everything, signature included, travels in the parameters. */
function authenticateV1(gate: Gate, method: string, params: Params): Authenticated {
  const format = params.Format;
  if (format !== undefined && format.toUpperCase() !== 'JSON') throw gatewayError.unsupportedFormat(format);
  for (const name of COMMON_REQUIRED) if (!params[name]) throw gatewayError.missing(name);
  if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') {
    throw gatewayError.incompleteSignature('SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.');
  }
  const nonceTtl = checkTimestamp(params.Timestamp!);
  const secret = secretOf(gate, params.AccessKeyId!);
  if (!signatureMatches(sign(method, params, secret), params.Signature!)) {
    throw gatewayError.signatureMismatch(method + '&%2F&' + percentEncode(canonicalQuery(params)));
  }
  return resolveAction(gate, params.Version!, params.Action!, params.AccessKeyId!, params.SignatureNonce!, nonceTtl);
}

/** V3 (ACS3-HMAC-SHA256): action, version, date and nonce in x-acs-* headers, signature in Authorization. */
function authenticateV3(gate: Gate, req: FastifyRequest, query: Params, authorization: string): Authenticated {
  const auth = parseV3Authorization(authorization);
  if (!auth) throw gatewayError.incompleteSignature(`Authorization must be "${V3_ALGORITHM} Credential=…,SignedHeaders=…,Signature=…".`);
  const headers = req.headers;
  const header = (name: string): string => {
    const value = headers[name];
    if (typeof value !== 'string' || !value) throw gatewayError.missing(name);
    return value;
  };
  const action = header('x-acs-action');
  const version = header('x-acs-version');
  const date = header('x-acs-date');
  const nonce = header('x-acs-signature-nonce');
  const contentSha = header('x-acs-content-sha256');
  for (const name of V3_SIGNED) {
    if (!auth.signedHeaders.includes(name)) throw gatewayError.incompleteSignature(`SignedHeaders must include ${name}.`);
  }
  const nonceTtl = checkTimestamp(date);
  const secret = secretOf(gate, auth.accessKeyId);
  if (sha256Hex(req.rawBody ?? '') !== contentSha) throw gatewayError.signatureMismatch('x-acs-content-sha256 does not match the body');
  const canonical = canonicalRequestV3({
    method: req.method,
    path: req.url.split('?')[0]!,
    query,
    headers,
    signedHeaders: auth.signedHeaders,
    payloadHash: contentSha,
  });
  if (!signatureMatches(signV3(secret, canonical), auth.signature)) throw gatewayError.signatureMismatch(canonical);
  return resolveAction(gate, version, action, auth.accessKeyId, nonce, nonceTtl);
}

export interface NonceUse {
  /** DISABLE_SIGNATURE_NONCE_CHECK unset. */
  check: boolean;
  claimNonce: NonceClaimer;
  key: string;
  ttlSeconds: number;
  deadline: Deadline;
  /** The action claims the nonce inside its own script (a bind: one Redis round trip, not two). */
  claim?: NonceClaim;
  /** The request already answered (its deadline passed): nothing may start now. */
  late(): boolean;
  actionName: string;
}

/** Runs the action with the request's SignatureNonce claimed once: a replay answers SignatureNonceUsed. */
export async function runClaimingNonce<T>(n: NonceUse, run: () => Promise<T>): Promise<T> {
  if (!n.claim) {
    if (n.check && !(await n.claimNonce(n.key, n.ttlSeconds, n.deadline))) throw gatewayError.nonceUsed();
    // Already answered isp.SYSTEM_ERROR: a slow nonce check must not start the action now.
    if (n.late()) throw new StorageUnavailableError('deadline', n.actionName);
    return run();
  }
  try {
    return await run();
  } catch (err) {
    if (err instanceof NonceReplayError) throw gatewayError.nonceUsed();
    // Refused before it reached Redis (a bad Expiration, an unknown pool, …): the nonce is
    // used all the same, and a replay of it answers SignatureNonceUsed as it would have.
    const business = err instanceof XlineError && err.code !== ERROR_CODES.SYSTEM_ERROR;
    if (business && !n.claim.claimed && !(await n.claimNonce(n.key, n.ttlSeconds, n.deadline))) throw gatewayError.nonceUsed();
    throw err;
  }
}
