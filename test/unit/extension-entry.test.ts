import { describe, expect, it } from 'vitest';
import { readEntry, type CollectedKeys, type Entry } from '../../src/domain/extension-entry.js';

type Row = [name: string, keys: CollectedKeys, o: { maxDigits: number; afterCompleteEntry: boolean }, expected: Entry];

const rows: Row[] = [
  ['3 digits on a 3-digit X: complete (ended on the count)', { digits: '305' }, { maxDigits: 3, afterCompleteEntry: false }, { kind: 'digits', digits: '305', complete: true }],
  ['2 digits ended by # on a 3-digit X: not complete', { digits: '77', terminatorUsed: '#' }, { maxDigits: 3, afterCompleteEntry: false }, { kind: 'digits', digits: '77', complete: false }],
  ['3 digits ended by the timeout on a 4-digit X: not complete', { digits: '305' }, { maxDigits: 4, afterCompleteEntry: false }, { kind: 'digits', digits: '305', complete: false }],
  ['4 digits on a 4-digit X: complete', { digits: '1001' }, { maxDigits: 4, afterCompleteEntry: true }, { kind: 'digits', digits: '1001', complete: true }],
  ['keys that are no extension', { invalidDigits: '*12' }, { maxDigits: 3, afterCompleteEntry: false }, { kind: 'invalid' }],
  ['keys that are no extension, after a complete entry', { invalidDigits: '*12', terminatorUsed: '#' }, { maxDigits: 3, afterCompleteEntry: true }, { kind: 'invalid' }],
  ['# alone right after a complete entry: that entry\'s #, not a try', { terminatorUsed: '#' }, { maxDigits: 3, afterCompleteEntry: true }, { kind: 'late-terminator' }],
  ['# alone after an entry that # already ended: a try without digits', { terminatorUsed: '#' }, { maxDigits: 3, afterCompleteEntry: false }, { kind: 'nothing' }],
  ['timeout right after a complete entry: a try without digits', {}, { maxDigits: 3, afterCompleteEntry: true }, { kind: 'nothing' }],
  ['timeout: a try without digits', {}, { maxDigits: 3, afterCompleteEntry: false }, { kind: 'nothing' }],
  ['empty strings from FreeSWITCH read as absent', { digits: '', invalidDigits: '', terminatorUsed: '' }, { maxDigits: 3, afterCompleteEntry: true }, { kind: 'nothing' }],
];

describe('readEntry: what one round of extension digits counts as', () => {
  for (const [name, keys, o, expected] of rows) {
    it(name, () => {
      expect(readEntry(keys, o)).toEqual(expected);
    });
  }

  it('another terminator is the one that belongs to the entry when configured', () => {
    expect(readEntry({ terminatorUsed: '*' }, { maxDigits: 3, afterCompleteEntry: true, terminator: '*' })).toEqual({ kind: 'late-terminator' });
    expect(readEntry({ terminatorUsed: '#' }, { maxDigits: 3, afterCompleteEntry: true, terminator: '*' })).toEqual({ kind: 'nothing' });
  });

  it('a caller who types 306#, 307#, 305# on a 3-digit X gets 3 real tries', () => {
    // The rounds FreeSWITCH returns: each entry ends on its third digit, and the # after it
    // ends the next round empty before the caller types the next entry.
    const rounds: CollectedKeys[] = [{ digits: '306' }, { terminatorUsed: '#' }, { digits: '307' }, { terminatorUsed: '#' }, { digits: '305' }];
    const tries: string[] = [];
    let after = false;
    for (const r of rounds) {
      const e = readEntry(r, { maxDigits: 3, afterCompleteEntry: after });
      after = e.kind === 'digits' && e.complete;
      if (e.kind === 'late-terminator') continue;
      tries.push(e.kind === 'digits' ? e.digits : e.kind);
    }
    expect(tries).toEqual(['306', '307', '305']);
  });
});
