// Pure media helpers: wav headers, recording names and signed links, ring-tone storage.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavInfo } from '../../src/audio-files/wav.js';
import { RecordingLinks, recordingDuration, recordingFileName } from '../../src/audio-files/recording-files.js';
import {
  assertRingTonesExist,
  deleteRingTone,
  listRingTones,
  RingToneError,
  saveRingTone,
  validateRingTone,
} from '../../src/audio-files/ring-tones.js';
import { XlineError } from '../../src/domain/errors.js';
import { wav } from './fixtures.js';

describe('readWavInfo', () => {
  it('reads format, rate and duration', () => {
    const i = readWavInfo(wav(2.5))!;
    expect(i).toMatchObject({ format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(i.durationSec).toBeCloseTo(2.5, 5);
  });
  it('counts the bytes present when the writer never fixed the data size', () => {
    const b = wav(1);
    b.writeUInt32LE(0xffffffff, 40);
    expect(readWavInfo(b)!.durationSec).toBeCloseTo(1, 5);
    expect(readWavInfo(b.subarray(0, 44), b.length)!.durationSec).toBeCloseTo(1, 5);
  });
  it('refuses what is not a wav', () => {
    expect(readWavInfo(Buffer.from('ID3 not a wav at all'))).toBeUndefined();
    expect(readWavInfo(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('recording names and links', () => {
  it('keeps a safe Call-ID, hashes an unsafe one', () => {
    expect(recordingFileName('abc-123.x_y')).toBe('abc-123.x_y.wav');
    const n = recordingFileName('a1b2@10.0.0.1');
    expect(n).toMatch(/^a1b2_10\.0\.0\.1-[0-9a-f]{12}\.wav$/);
    expect(recordingFileName('a1b2_10.0.0.1')).not.toBe(n);
    expect(recordingFileName('../../etc/passwd')).not.toContain('/');
  });
  const links = new RecordingLinks(Buffer.from('k'.repeat(32)), 60, 'http://127.0.0.1:8080');
  it('signs a link that verifies until it expires', () => {
    const { url, expires } = links.url('c1.wav', 1000);
    const u = new URL(url);
    expect(u.pathname).toBe('/v1/recordings/c1.wav');
    expect(expires).toBe(1060);
    const [e, s] = [u.searchParams.get('expires')!, u.searchParams.get('sig')!];
    expect(links.check('c1.wav', e, s, 1059)).toBe('ok');
    expect(links.check('c1.wav', e, s, 1061)).toBe('expired');
  });
  it('refuses a tampered name, expiry or signature', () => {
    const u = new URL(links.url('c1.wav', 1000).url);
    const [e, s] = [u.searchParams.get('expires')!, u.searchParams.get('sig')!];
    expect(links.check('c2.wav', e, s, 1000)).toBe('bad-signature');
    expect(links.check('c1.wav', String(Number(e) + 3600), s, 1000)).toBe('bad-signature');
    expect(links.check('c1.wav', e, s.slice(0, -2) + 'AA', 1000)).toBe('bad-signature');
    expect(links.check('c1.wav', undefined, s, 1000)).toBe('bad-signature');
    const other = new RecordingLinks(Buffer.from('o'.repeat(32)), 60, 'http://x');
    expect(other.check('c1.wav', e, s, 1000)).toBe('bad-signature');
  });
});

describe('ring tones on disk', () => {
  let dir: string;
  let cfg: { RING_TONE_DIR: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xline-tones-'));
    cfg = { RING_TONE_DIR: join(dir, 'tones') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('validates uploads', () => {
    expect(() => validateRingTone(Buffer.from('nope'))).toThrow(RingToneError);
    expect(() => validateRingTone(wav(1, 8000, 32))).toThrow(/PCM/);
    expect(() => validateRingTone(wav(0.05))).toThrow(/0.2 s/);
    expect(() => validateRingTone(wav(1, 4000))).toThrow(/sample rate/);
    expect(validateRingTone(wav(1, 16000)).sampleRate).toBe(16000);
    expect(validateRingTone(wav(1, 8000, 8, 1, 7)).format).toBe(7);
  });
  it('stores, replaces, lists and deletes', async () => {
    expect((await saveRingTone(cfg, 'vip-1', wav(1))).created).toBe(true);
    expect((await saveRingTone(cfg, 'vip-1', wav(2))).created).toBe(false);
    await saveRingTone(cfg, 'b', wav(1));
    expect((await listRingTones(cfg)).map((t) => t.id)).toEqual(['b', 'vip-1']);
    expect(await recordingDuration(join(cfg.RING_TONE_DIR, 'vip-1.wav'))).toBeCloseTo(2, 3);
    expect(await deleteRingTone(cfg, 'b')).toBe(true);
    expect(await deleteRingTone(cfg, 'b')).toBe(false);
    await expect(saveRingTone(cfg, '../x', wav(1))).rejects.toThrow(RingToneError);
    await expect(saveRingTone(cfg, '.hidden', wav(1))).rejects.toThrow(RingToneError);
  });
  it('refuses a RingConfig naming a tone that was never uploaded, naming key and id', async () => {
    await expect(assertRingTonesExist(cfg, { AXNRing_N: 'vip-1' })).resolves.toBeUndefined();
    const err = await assertRingTonesExist(cfg, { AXNRing_AB: 'vip-1', AXNRing_N: 'missing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlineError);
    expect((err as XlineError).code).toBe('isv.INVALID_PARAMETERS');
    expect((err as XlineError).message).toContain("AXNRing_N: ring tone 'missing'");
  });
  it('measures nothing for a missing file', async () => {
    await writeFile(join(dir, 'junk.wav'), 'junk');
    expect(await recordingDuration(join(dir, 'junk.wav'))).toBeUndefined();
    expect(await recordingDuration(join(dir, 'absent.wav'))).toBeUndefined();
  });
});
