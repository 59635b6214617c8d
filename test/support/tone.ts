// What a person would hear, measured: sine tones written as 16-bit PCM WAV files for a phone to
// play, and the audio a phone (or a recording) received, read back and cut into 20 ms windows
// to find which windows carry a given tone (Goertzel power against the window's energy), the
// longest gap inside the tone, and the loudest frequency.
import { readFileSync, writeFileSync } from 'node:fs';

export interface Pcm {
  rate: number;
  /** Mono samples (several channels are mixed down). */
  samples: Int16Array;
}

/** A mono 16-bit PCM WAV of a sine at `hz`: what baresip's aufile source plays. */
export function writeToneWav(path: string, hz: number, seconds: number, rate = 8000, amplitude = 12000): string {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  writeFileSync(path, buf);
  return path;
}

/** A 16-bit PCM WAV file (baresip's sndfile dumps, FreeSWITCH recordings), mixed to mono. */
export function readWav(path: string): Pcm {
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let off = 12;
  let channels = 0;
  let rate = 0;
  let bits = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16 || !channels || !rate) throw new Error(`${path}: ${bits}-bit, ${channels} channel(s): only 16-bit PCM is read`);
      // A writer that never closed the file leaves 0 or 0xFFFFFFFF here: take what is there.
      const bytes = size === 0 || size === 0xffffffff || body + size > buf.length ? buf.length - body : size;
      const frames = Math.floor(bytes / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += buf.readInt16LE(body + (i * channels + c) * 2);
        samples[i] = Math.round(sum / channels);
      }
      return { rate, samples };
    }
    off = body + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Goertzel power at `hz` over samples[from, to). */
function goertzel(s: Int16Array, from: number, to: number, hz: number, rate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let q1 = 0;
  let q2 = 0;
  for (let i = from; i < to; i++) {
    const q0 = coeff * q1 - q2 + s[i]!;
    q2 = q1;
    q1 = q0;
  }
  return q1 * q1 + q2 * q2 - coeff * q1 * q2;
}

const WINDOW_MS = 20;
/** A window this quiet (RMS, 16-bit) is silence: about -50 dBFS. */
const SILENCE_RMS = 100;

export interface ToneReport {
  hz: number;
  /** Seconds of audio in the file. */
  totalSec: number;
  /** Seconds of 20 ms windows dominated by the tone, from its start. */
  toneSec: number;
  /** Offsets (s) of the tone's start (its first 100 ms run) and end; NaN when it never came. */
  firstSec: number;
  lastSec: number;
  /** Longest run without the tone between its start (first 100 ms run) and its last window (ms). */
  longestGapMs: number;
  /** Where that gap starts (s from the file's start; NaN without a gap): an edge or mid-call. */
  longestGapAtSec: number;
  /** Loudest frequency over the tone's windows (Hz, 5 Hz steps); 0 without the tone. */
  dominantHz: number;
}

/**
 * Where `hz` is heard in `pcm`: a 20 ms window carries the tone when it is not silent and at
 * least `share` of its energy is at `hz` (a pure tone scores ~1, the other party's tone ~0).
 * `fromSec` skips the start (prompts, ringback).
 */
export function toneReport(pcm: Pcm, hz: number, o: { fromSec?: number; share?: number } = {}): ToneReport {
  const { rate, samples } = pcm;
  const n = Math.round((rate * WINDOW_MS) / 1000);
  const share = o.share ?? 0.5;
  const start = Math.round((o.fromSec ?? 0) * rate);
  const hits: number[] = [];
  for (let w = start; w + n <= samples.length; w += n) {
    let energy = 0;
    for (let i = w; i < w + n; i++) energy += samples[i]! * samples[i]!;
    if (Math.sqrt(energy / n) < SILENCE_RMS) continue;
    // A sine of amplitude A: Goertzel power ≈ (A·n/2)², energy ≈ n·A²/2, so the ratio below is ≈ 1.
    const ratio = goertzel(samples, w, w + n, hz, rate) / ((n / 2) * energy);
    if (ratio >= share) hits.push(w);
  }
  const totalSec = samples.length / rate;
  // The tone starts with its first run of 100 ms: a stray window of a prompt does not count.
  const first = hits.findIndex((w, i) => i + 4 < hits.length && hits[i + 4] === w + 4 * n);
  if (first < 0) return { hz, totalSec, toneSec: (hits.length * n) / rate, firstSec: NaN, lastSec: NaN, longestGapMs: NaN, longestGapAtSec: NaN, dominantHz: 0 };
  let longestGap = 0;
  let gapAt = NaN;
  for (let i = first + 1; i < hits.length; i++) {
    const gap = hits[i]! - hits[i - 1]! - n;
    if (gap > longestGap) [longestGap, gapAt] = [gap, hits[i - 1]! + n];
  }
  return {
    hz,
    totalSec,
    toneSec: ((hits.length - first) * n) / rate,
    firstSec: hits[first]! / rate,
    lastSec: (hits.at(-1)! + n) / rate,
    longestGapMs: Math.round((longestGap / rate) * 1000),
    longestGapAtSec: gapAt / rate,
    dominantHz: dominantHz(samples, hits.slice(first), n, rate),
  };
}

/** Loudest frequency, 100–3500 Hz in 5 Hz steps, summed over (up to 50 of) the given windows. */
function dominantHz(samples: Int16Array, windows: number[], n: number, rate: number): number {
  // 4 windows at a time: 80 ms gives 12.5 Hz resolution, enough to tell a tone from its neighbours.
  const span = 4 * n;
  const picks = windows.filter((w, i) => i % 4 === 0 && w + span <= samples.length).slice(0, 50);
  if (!picks.length) picks.push(windows[0]!);
  let best = 0;
  let bestPower = -1;
  for (let hz = 100; hz <= 3500; hz += 5) {
    let p = 0;
    for (const w of picks) p += goertzel(samples, w, Math.min(w + span, samples.length), hz, rate);
    if (p > bestPower) {
      bestPower = p;
      best = hz;
    }
  }
  return best;
}
