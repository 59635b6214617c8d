// A binding as the pure domain sees it, for unit tests of the decisions made on it (routing, the
// media a bridge needs): AXB, A 13800000001, B 13900000002 on X 17000000001, no recording.
import type { Binding } from '../../src/domain/binding.js';

export const AXB_BINDING: Readonly<Binding> = {
  subsId: '170000000010000001',
  mode: 'AXB',
  poolKey: 'FC100000001',
  x: '17000000001',
  a: '13800000001',
  b: '13900000002',
  expiresAt: 2_000_000_000,
  createdAt: 1_700_000_000,
  recording: false,
  callDisplayType: 1,
};
