// Huawei's X-AKSK computation (HUAWEI.md §1), the one implementation: the API verifies requests
// with it (api/huawei/auth.ts) and the events worker signs the callbacks it sends to an app.
//   PasswordDigest = Base64(HMAC-SHA256(key = app_secret, Nonce + Created))
import { createHmac, randomUUID } from 'node:crypto';

export function akskDigest(secret: string, nonce: string, created: string): string {
  return createHmac('sha256', secret).update(nonce + created).digest('base64');
}

/** `yyyy-MM-ddTHH:mm:ssZ` of a moment (Created of xline's own signed callbacks). */
export function formatCreated(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The two headers of an X-AKSK-signed request by app_key / app_secret (xline's callbacks to an app). */
export function akskHeaders(appKey: string, secret: string, nonce: string = randomUUID().replace(/-/g, ''), nowMs = Date.now()): Record<string, string> {
  const created = formatCreated(nowMs);
  return {
    Authorization: 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"',
    'X-AKSK': `UsernameToken Username="${appKey}",PasswordDigest="${akskDigest(secret, nonce, created)}",Nonce="${nonce}",Created="${created}"`,
  };
}
