// Alibaba's V3 request signature (ACS3-HMAC-SHA256), used by the current Tea-based SDKs
// (@alicloud/openapi-client's callApi, e.g. @alicloud/dyplsapi20170525) for RPC APIs too:
//   CanonicalRequest = METHOD \n URI \n sorted query \n "name:value\n" per signed header \n
//                      signed header names joined by ';' \n hex(sha256(body))
//   StringToSign = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//   Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b>,Signature=<hex HMAC-SHA256>
// Pure: no I/O.
import { createHash, createHmac } from 'node:crypto';
import { percentEncode } from './signature.js';

export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';

export interface V3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`, or undefined. */
export function parseV3Authorization(h: string): V3Authorization | undefined {
  if (!h.startsWith(V3_ALGORITHM + ' ')) return undefined;
  const fields = new Map<string, string>();
  for (const part of h.slice(V3_ALGORITHM.length + 1).split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signed || !signature) return undefined;
  return { accessKeyId, signedHeaders: signed.split(';').map((s) => s.trim().toLowerCase()), signature };
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export interface V3Request {
  method: string;
  /** Request path, e.g. "/". */
  path: string;
  query: Readonly<Record<string, string>>;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  signedHeaders: readonly string[];
  /** hex sha256 of the body, as the client sent it in x-acs-content-sha256. */
  payloadHash: string;
}

export function canonicalRequestV3(r: V3Request): string {
  const keys = Object.keys(r.query).sort();
  const query = keys.map((k) => percentEncode(k) + '=' + percentEncode(r.query[k]!)).join('&');
  const names = [...r.signedHeaders].sort();
  let headers = '';
  for (const n of names) {
    const v = r.headers[n];
    const values = (Array.isArray(v) ? v : [v ?? '']).map((s) => s.trim()).sort();
    headers += `${n}:${values.join(',')}\n`;
  }
  return [r.method.toUpperCase(), r.path, query, headers, names.join(';'), r.payloadHash].join('\n');
}

export function signV3(secret: string, canonicalRequest: string): string {
  const stringToSign = V3_ALGORITHM + '\n' + sha256Hex(canonicalRequest);
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}
