// Redis key schema of the events module. Every key carries the one hash tag `{events}`, so each
// Lua script below touches a single slot and runs unchanged on Redis Cluster (DESIGN §6). One slot
// is enough: a call costs about six small writes here, far below what one Redis node serves.

const P = 'xline:{events}:';

export const EVENT_KEYS = {
  /** The delivery queue: one entry per event not yet delivered (deleted once delivered or moved). */
  stream: `${P}stream`,
  /** Retries: zset event id → due time (ms), and hash event id → queue entry JSON. */
  retryDue: `${P}retry:due`,
  retryEntries: `${P}retry:entries`,
  /** Dead letters: zset event id → dead-at (ms), and hash event id → entry JSON with the last error. */
  deadAt: `${P}dead:at`,
  deadEntries: `${P}dead:entries`,
  /** CDR hash {r: record JSON, t: recorded-at ms, ev:<type> markers}, expires after the retention. */
  cdr: (callId: string) => `${P}cdr:${callId}`,
  /** CDR indexes: zset call_id → recorded-at ms, all calls and per binding. */
  cdrsByTime: `${P}cdrs:time`,
  cdrsBySub: (subId: string) => `${P}cdrs:sub:${subId}`,
  /** A recording file (its name in RECORDING_DIR) → the call_id whose CDR names it; expires with the CDR. */
  recording: (fileName: string) => `${P}rec:${fileName}`,
  /**
   * Live call: hash {state, since, info, owner, t:<type> (event time ms), ev:<type> markers};
   * deleted by the CDR write.
   */
  call: (callId: string) => `${P}call:${callId}`,
  /** Live calls of one binding: set of call_ids. */
  live: (subId: string) => `${P}live:${subId}`,
  /** Heartbeats: zset owner (one pipeline's run) → last seen, ms of the Redis clock. */
  owners: `${P}owners`,
  /** Live calls of one owner: set of call_ids (added by its first event, removed by the CDR). */
  owned: (owner: string) => `${P}owned:${owner}`,
} as const;

export const DELIVERY_GROUP = 'webhook';
