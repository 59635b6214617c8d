// The console's only way to xline: the ops REST API with the session cookie (sent by the browser)
// and the session's CSRF token on every write. Errors become ApiError with a message in words.
import { has, t } from './i18n.js';

let csrf = '';
export const setCsrf = (token: string) => (csrf = token);

/** Called when a request finds the session gone (signed out elsewhere, expired). */
let onSessionEnded: () => void = () => undefined;
export const whenSessionEnds = (f: () => void) => (onSessionEnded = f);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The server's error in the operator's language when we have words for its code, else its own message. */
function words(status: number, code: string, message: string | undefined): string {
  const key = `err.${code}`;
  if (has(key)) return t(key);
  if (message) return message;
  return t('err.http', { status });
}

export interface CallOpts {
  /** Raw body (a file) with its content type, instead of JSON. */
  raw?: { body: Blob; type: string };
  /** Do not treat 401 as "session ended" (the sign-in form). */
  signIn?: boolean;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, opts: CallOpts = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-csrf-token'] = csrf;
  let payload: BodyInit | undefined;
  if (opts.raw) {
    headers['content-type'] = opts.raw.type;
    payload = opts.raw.body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', t('err.network'));
  }
  if (res.status === 204) return undefined as T;
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    const code = e?.code ?? `HTTP_${res.status}`;
    if (res.status === 401 && !opts.signIn) {
      onSessionEnded();
      throw new ApiError(401, code, t('err.session'));
    }
    throw new ApiError(res.status, code, words(res.status, code, e?.message));
  }
  return data as T;
}

export const errorText = (e: unknown): string => (e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e));
