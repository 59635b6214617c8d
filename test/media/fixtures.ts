// Test fixtures for media tests.

/** A PCM wav of `seconds` of silence. */
export function wav(seconds: number, rate = 8000, bits = 16, channels = 1, format = 1): Buffer {
  const block = (bits / 8) * channels;
  const data = Math.round(seconds * rate) * block;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(format, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * block, 28);
  b.writeUInt16LE(block, 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  return b;
}

/** A 16-bit 8 kHz mono wav of a sine at `hz`. */
export function toneWav(hz: number, seconds: number, amplitude = 10000): Buffer {
  const b = wav(seconds);
  const n = (b.length - 44) / 2;
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return b;
}
