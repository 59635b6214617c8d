// Ring tones: operator-uploaded wav files, one per tone id, in RING_TONE_DIR (shared with
// FreeSWITCH at the same path). RingConfig values name them; an id without a file is refused
// when a binding is made, and falls back to FreeSWITCH's default ringback if the file vanished later.
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { RingConfig } from '../domain/binding.js';
import { xlineError } from '../domain/errors.js';
import { toneIdCandidates } from '../domain/huawei-binding.js';
import { readWavInfo, type WavInfo } from './wav.js';

/** Same rule as RingConfig values in the dypls API (fields.ts), without a leading dot. */
export const RING_TONE_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;
export const RING_TONE_MAX_BYTES = 10 * 1024 * 1024;

type Dirs = Pick<Config, 'RING_TONE_DIR'>;

export function ringTonePath(config: Dirs, id: string): string {
  return resolve(config.RING_TONE_DIR, `${id}.wav`);
}

/** The file of a Huawei tone name (a ring-tone id, or one with `.wav`), if it exists now. */
export async function ringToneFile(config: Dirs, name: string): Promise<string | undefined> {
  for (const id of toneIdCandidates(name)) {
    if (!RING_TONE_ID.test(id)) continue;
    const path = ringTonePath(config, id);
    if (await isFile(path)) return path;
  }
  return undefined;
}

export class RingToneError extends Error {}

/** Checks an upload: a wav FreeSWITCH can play, of sane length. Returns its header. */
export function validateRingTone(buf: Buffer): WavInfo {
  if (buf.length > RING_TONE_MAX_BYTES) throw new RingToneError(`ring tone larger than ${RING_TONE_MAX_BYTES} bytes`);
  const info = readWavInfo(buf);
  if (!info) throw new RingToneError('body is not a RIFF/WAVE file');
  const pcm = info.format === 1 && (info.bitsPerSample === 16 || info.bitsPerSample === 8);
  const g711 = (info.format === 6 || info.format === 7) && info.bitsPerSample === 8;
  if (!pcm && !g711) throw new RingToneError('wav must be 16-bit or 8-bit PCM, A-law or µ-law');
  if (info.channels < 1 || info.channels > 2) throw new RingToneError('wav must be mono or stereo');
  if (info.sampleRate < 8000 || info.sampleRate > 48000) throw new RingToneError('wav sample rate must be 8000–48000 Hz');
  if (info.durationSec < 0.2 || info.durationSec > 300) throw new RingToneError('ring tone must last 0.2 s to 5 min');
  return info;
}

/** Stores (or replaces) a tone atomically: FreeSWITCH never opens a half-written file. */
export async function saveRingTone(config: Dirs, id: string, buf: Buffer): Promise<{ created: boolean; info: WavInfo }> {
  if (!RING_TONE_ID.test(id)) throw new RingToneError('ring tone id must be 1–64 of A-Z a-z 0-9 _ . - (not starting with a dot)');
  const info = validateRingTone(buf);
  await mkdir(resolve(config.RING_TONE_DIR), { recursive: true });
  const path = ringTonePath(config, id);
  const created = !(await isFile(path));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, buf);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { created, info };
}

export async function deleteRingTone(config: Dirs, id: string): Promise<boolean> {
  if (!RING_TONE_ID.test(id)) return false;
  const path = ringTonePath(config, id);
  if (!(await isFile(path))) return false;
  await rm(path, { force: true });
  return true;
}

export async function listRingTones(config: Dirs): Promise<Array<{ id: string; bytes: number }>> {
  let names: string[];
  try {
    names = await readdir(resolve(config.RING_TONE_DIR));
  } catch {
    return [];
  }
  const out: Array<{ id: string; bytes: number }> = [];
  for (const n of names.sort()) {
    if (!n.endsWith('.wav')) continue;
    const id = n.slice(0, -4);
    if (!RING_TONE_ID.test(id)) continue;
    try {
      out.push({ id, bytes: (await stat(resolve(config.RING_TONE_DIR, n))).size });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

export async function ringToneExists(config: Dirs, id: string): Promise<boolean> {
  return RING_TONE_ID.test(id) && (await isFile(ringTonePath(config, id)));
}

/**
 * Bind/update-time check (DESIGN §4 "clear error"): every tone a RingConfig names must have been
 * uploaded. Throws isv.INVALID_PARAMETERS naming the key and the id.
 */
export async function assertRingTonesExist(config: Dirs, rc: RingConfig | undefined): Promise<void> {
  if (!rc) return;
  for (const [key, id] of Object.entries(rc)) {
    if (id === undefined) continue;
    if (!(await ringToneExists(config, id))) {
      throw xlineError('INVALID_PARAMETERS', `RingConfig ${key}: ring tone '${id}' does not exist (upload it with PUT /v1/ring-tones/${id})`);
    }
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
