// A Huawei PrivateNumber client written from HUAWEI.md alone (Huawei publishes no npm SDK), as a
// customer's integration would be: real HTTP, JSON bodies, GET/DELETE parameters in the query
// string with '+' sent as %2B, and each request signed with the AKSK scheme (default) or the
// legacy WSSE one. It shares no code with xline's server side, so the two cannot agree on a
// mistake. Every part of the signature can be overridden or dropped, to test the refusals.
import { createHash, createHmac, randomUUID } from 'node:crypto';

export type HwScheme = 'AKSK' | 'WSSE';

export interface HuaweiClientOptions {
  /** e.g. http://127.0.0.1:8080 (xline's admin listener) */
  baseUrl: string;
  appKey: string;
  appSecret: string;
  scheme?: HwScheme;
}

/** Overrides of one request's signature; `null` drops that part. */
export interface SignOverrides {
  scheme?: HwScheme;
  appKey?: string | null;
  appSecret?: string;
  nonce?: string | null;
  created?: string | null;
  /** A PasswordDigest to send instead of the right one. */
  digest?: string | null;
  /** The whole Authorization header (null: none). */
  authorization?: string | null;
  /** The whole X-AKSK / X-WSSE header (null: none). */
  token?: string | null;
  /** WSSE only: Base64 of the digest's hex string (an old Python demo) instead of the raw digest. */
  wsseHex?: boolean;
  /** ", " between attributes, as Huawei's docs (the demos use ","). */
  spacedAttributes?: boolean;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** A query string sent as is (e.g. with a literal '+'). */
  rawQuery?: string;
  body?: unknown;
  /** A body sent as is. */
  rawBody?: string;
  contentType?: string;
  sign?: SignOverrides;
}

export interface HwAnswer {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

/** UTC `yyyy-MM-ddTHH:mm:ssZ` (Huawei's Created), `offsetMs` from now. */
export function hwCreated(offsetMs = 0): string {
  const d = new Date(Date.now() + offsetMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
}

export const AXB_PATH = '/rest/caas/relationnumber/partners/v1.0';

export class HuaweiClient {
  constructor(readonly opts: HuaweiClientOptions) {}

  /** The Authorization and X-AKSK / X-WSSE headers of one request. */
  headers(o: SignOverrides = {}): Record<string, string> {
    const scheme = o.scheme ?? this.opts.scheme ?? 'AKSK';
    const appKey = o.appKey === undefined ? this.opts.appKey : o.appKey;
    const secret = o.appSecret ?? this.opts.appSecret;
    const nonce = o.nonce === undefined ? randomUUID().replace(/-/g, '') : o.nonce;
    const created = o.created === undefined ? hwCreated() : o.created;
    let digest: string | null;
    if (o.digest !== undefined) digest = o.digest;
    else if (scheme === 'AKSK') digest = createHmac('sha256', secret).update(`${nonce ?? ''}${created ?? ''}`).digest('base64');
    else {
      const h = createHash('sha256').update(`${nonce ?? ''}${created ?? ''}${secret}`);
      digest = o.wsseHex ? Buffer.from(h.digest('hex')).toString('base64') : h.digest('base64');
    }
    const sep = o.spacedAttributes ? ', ' : ',';
    const attrs: string[] = [];
    if (appKey !== null) attrs.push(`Username="${appKey}"`);
    if (digest !== null) attrs.push(`PasswordDigest="${digest}"`);
    if (nonce !== null) attrs.push(`Nonce="${nonce}"`);
    if (created !== null) attrs.push(`Created="${created}"`);
    const out: Record<string, string> = {};
    const authorization = o.authorization === undefined ? `${scheme} realm="SDP"${sep}profile="UsernameToken"${sep}type="Appkey"` : o.authorization;
    if (authorization !== null) out.Authorization = authorization;
    const token = o.token === undefined ? `UsernameToken ${attrs.join(sep)}` : o.token;
    if (token !== null) out[scheme === 'AKSK' ? 'X-AKSK' : 'X-WSSE'] = token;
    return out;
  }

  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, o: RequestOptions = {}): Promise<HwAnswer> {
    let url = this.opts.baseUrl + path;
    if (o.rawQuery !== undefined) url += '?' + o.rawQuery;
    else if (o.query) {
      const qs = Object.entries(o.query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
      if (qs) url += '?' + qs;
    }
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers(o.sign) };
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers['Content-Type'] = o.contentType ?? 'application/json;charset=UTF-8';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: Record<string, any> = {};
    if (text) {
      try {
        parsed = JSON.parse(text) as Record<string, any>;
      } catch {
        parsed = { text };
      }
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** AXB mode (HUAWEI.md §3.1). */
  readonly axb = {
    bind: (body: Record<string, unknown>, sign?: SignOverrides) => this.request('POST', AXB_PATH, { body, sign }),
    modify: (body: Record<string, unknown>, sign?: SignOverrides) => this.request('PUT', AXB_PATH, { body, sign }),
    query: (query: Record<string, string | number | undefined>, sign?: SignOverrides) => this.request('GET', AXB_PATH, { query, sign }),
    unbind: (query: Record<string, string | number | undefined>, sign?: SignOverrides) => this.request('DELETE', AXB_PATH, { query, sign }),
  };
}
