// Reads a RIFF/WAVE header: enough to validate an uploaded ring tone and to measure a recording.
// Pure.

export interface WavInfo {
  /** WAVE format tag: 1 PCM, 3 float, 6 A-law, 7 µ-law, 0xFFFE extensible. */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes of audio in the data chunk (as the header says, capped at what the buffer holds). */
  dataBytes: number;
  durationSec: number;
}

/**
 * `buf` holds at least the header chunks (the first few KB do); `fileSize` is the whole file's
 * length when only its head was read.
 */
export function readWavInfo(buf: Buffer, fileSize = buf.length): WavInfo | undefined {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let off = 12;
  let fmt: Omit<WavInfo, 'dataBytes' | 'durationSec'> | undefined;
  let blockAlign = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= buf.length) {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
      blockAlign = buf.readUInt16LE(body + 12);
    } else if (id === 'data') {
      if (!fmt || !blockAlign || !fmt.sampleRate) return undefined;
      // A writer that never closed the file leaves 0 or 0xFFFFFFFF here: count what is there.
      const present = Math.max(0, fileSize - body);
      const dataBytes = size === 0 || size === 0xffffffff || size > present ? present : size;
      return { ...fmt, dataBytes, durationSec: dataBytes / blockAlign / fmt.sampleRate };
    }
    off = body + size + (size % 2);
  }
  return undefined;
}
