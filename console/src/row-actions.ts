// The buttons of a table row, written once for every page: each named for screen readers with
// what it acts on ("Delete tone-1"), and the delete that asks first, says what happened and
// reloads the list.
import { api, errorText } from './api.js';
import { confirmDialog, h, type Child } from './dom.js';

export type Notice = { ok(text: string): void; error(text: string): void };

/** The row's actions, side by side. */
export const rowActions = (...buttons: Child[]): HTMLElement => h('div', { class: 'row-actions' }, ...buttons);

/** A button `label` that screen readers call "label name". */
export function rowButton(label: string, name: string, onclick: () => void | Promise<void>, o: { danger?: boolean } = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: o.danger ? 'danger' : undefined, 'aria-label': `${label} ${name}`, onclick }, label);
}

/**
 * A delete button: once the operator confirms `question`, DELETE `path`, `done` said in `msg`
 * and the list drawn again (`reload`); the API's refusal is said in `msg` instead.
 */
export function deleteButton(o: { label: string; name: string; question: string; path: string; done: string; msg: Notice; reload(): Promise<void> }): HTMLButtonElement {
  return rowButton(
    o.label,
    o.name,
    async () => {
      if (!(await confirmDialog(o.question, o.label))) return;
      try {
        await api('DELETE', o.path);
        o.msg.ok(o.done);
        await o.reload();
      } catch (err) {
        o.msg.error(errorText(err));
      }
    },
    { danger: true },
  );
}

/** Runs a page's first load; its failure is said in `msg`. */
export async function firstLoad(msg: Notice, load: () => Promise<void>): Promise<void> {
  try {
    await load();
  } catch (err) {
    msg.error(errorText(err));
  }
}
