// Recording files and their download links. A call's recording is RECORDING_DIR/<call id>.wav
// (the id made file-safe); QueryRecordFileDownloadUrl hands out a link that the admin HTTP
// server honours until it expires: HMAC-SHA256 over name and expiry, so a link cannot be
// stretched or pointed at another file.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { readWavInfo } from './wav.js';

const SAFE = /^[A-Za-z0-9._-]{1,100}$/;

/** File name for a call's recording: the Call-ID when already file-safe, else a safe form + hash. */
export function recordingFileName(callId: string): string {
  if (SAFE.test(callId) && !callId.startsWith('.')) return `${callId}.wav`;
  const base = callId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 80);
  const h = createHash('sha256').update(callId).digest('hex').slice(0, 12);
  return `${base}-${h}.wav`;
}

export function recordingPath(config: Pick<Config, 'RECORDING_DIR'>, callId: string): string {
  return resolve(config.RECORDING_DIR, recordingFileName(callId));
}

/** Duration of a finished recording from its header and size; undefined when absent or not a wav. */
export async function recordingDuration(path: string): Promise<number | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, 4096));
    await fh.read(head, 0, head.length, 0);
    const info = readWavInfo(head, size);
    return info ? Math.round(info.durationSec * 1000) / 1000 : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

export async function recordingExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export type LinkCheck = 'ok' | 'expired' | 'bad-signature';

export class RecordingLinks {
  constructor(
    private readonly key: Buffer,
    private readonly ttlSec: number,
    private readonly baseUrl: string,
  ) {}

  private mac(name: string, expires: number): string {
    return createHmac('sha256', this.key).update(`recording\n${name}\n${expires}`).digest('base64url');
  }

  /** A download link for `name` valid until now + TTL (unix seconds). */
  url(name: string, nowSec = Math.floor(Date.now() / 1000)): { url: string; expires: number } {
    const expires = nowSec + this.ttlSec;
    const q = new URLSearchParams({ expires: String(expires), sig: this.mac(name, expires) });
    return { url: `${this.baseUrl}/v1/recordings/${encodeURIComponent(name)}?${q}`, expires };
  }

  check(name: string, expires: string | undefined, sig: string | undefined, nowSec = Math.floor(Date.now() / 1000)): LinkCheck {
    if (!expires || !sig || !/^\d{1,12}$/.test(expires)) return 'bad-signature';
    const want = Buffer.from(this.mac(name, Number(expires)));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad-signature';
    return Number(expires) < nowSec ? 'expired' : 'ok';
  }
}

// Without RECORDING_URL_SECRET one random key per process, shared by the SIP side (record_url in
// CDRs) and the admin API, so links made in this process verify here.
let processKey: Buffer | undefined;

export function recordingLinks(config: Pick<Config, 'RECORDING_URL_SECRET' | 'RECORDING_URL_TTL_SECONDS' | 'PUBLIC_BASE_URL' | 'ADMIN_HOST' | 'ADMIN_PORT'>): RecordingLinks {
  const key = config.RECORDING_URL_SECRET ? Buffer.from(config.RECORDING_URL_SECRET) : (processKey ??= randomBytes(32));
  const host = config.ADMIN_HOST.includes(':') ? `[${config.ADMIN_HOST}]` : config.ADMIN_HOST;
  const base = (config.PUBLIC_BASE_URL ?? `http://${host}:${config.ADMIN_PORT}`).replace(/\/+$/, '');
  return new RecordingLinks(key, config.RECORDING_URL_TTL_SECONDS, base);
}
