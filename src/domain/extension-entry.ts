// What one round of AXN-extension digit collection means for the caller's tries (DESIGN §5a).
// Pure: the media session hands it what FreeSWITCH's play_and_get_digits returned.

/** play_and_get_digits' answer: digits matching the pattern, keys that did not, the terminator seen. */
export interface CollectedKeys {
  digits?: string;
  invalidDigits?: string;
  terminatorUsed?: string;
}

export type Entry =
  /** An extension to look up; `complete`: it ended on the digit count, so a `#` may still follow. */
  | { kind: 'digits'; digits: string; complete: boolean }
  /** Keys that cannot be an extension (too long, `*`): a wrong entry. */
  | { kind: 'invalid' }
  /** Only the `#` the caller typed to end the previous entry, which had already ended on its count: not a try. */
  | { kind: 'late-terminator' }
  /** Nothing typed before the timeout, or `#` alone: a try without an extension. */
  | { kind: 'nothing' };

/**
 * `afterCompleteEntry`: the previous round was an entry that ended on its digit count (a 3-digit
 * extension routes on its third digit). Most callers type `#` after an extension anyway; that `#`
 * arrives while the next round runs and would end it empty, costing the caller one of the 3
 * tries. It belongs to the entry before it, so the round it ends is not counted.
 */
export function readEntry(r: CollectedKeys, o: { maxDigits: number; afterCompleteEntry: boolean; terminator?: string }): Entry {
  const digits = r.digits ?? '';
  if (digits) return { kind: 'digits', digits, complete: digits.length >= o.maxDigits };
  if (r.invalidDigits) return { kind: 'invalid' };
  if (o.afterCompleteEntry && r.terminatorUsed === (o.terminator ?? '#')) return { kind: 'late-terminator' };
  return { kind: 'nothing' };
}
