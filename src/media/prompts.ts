// xline's prompts (freeswitch/sounds/xline/*.wav, relative to FreeSWITCH's -sounds directory) and
// the extension-entry rules of DESIGN §5a. Pure.
import { Q850 } from '../domain/route.js';

export const PROMPT = {
  enterExtension: 'xline/enter-extension.wav',
  retry: 'xline/retry.wav',
  invalidGoodbye: 'xline/invalid-goodbye.wav',
  noInputGoodbye: 'xline/no-input-goodbye.wav',
  goodbye: 'xline/goodbye.wav',
  busy: 'xline/busy.wav',
  noAnswer: 'xline/no-answer.wav',
  unavailable: 'xline/unavailable.wav',
} as const;

/** Digits typed during a prompt count; `#` ends entry early. */
export const EXTENSION_ENTRY = {
  tries: 3,
  minDigits: 1,
  maxDigits: 4,
  /** After the prompt ends, for the first digit. */
  firstDigitMs: 5000,
  /** Between digits. */
  interDigitMs: 5000,
  terminator: '#',
} as const;

/** What the caller hears when B does not take the call, by Q.850 cause. */
export function announcementFor(cause: number): string {
  switch (cause) {
    case Q850.USER_BUSY:
      return PROMPT.busy;
    case Q850.NO_USER_RESPONSE:
    case Q850.NO_ANSWER:
    case Q850.RECOVERY_ON_TIMER_EXPIRE:
      return PROMPT.noAnswer;
    default:
      return PROMPT.unavailable;
  }
}
