/**
 * The @mention autocomplete of a composer: typing "@" and the start of a name lists the
 * members that match; Up/Down move, Enter or Tab (or a click) picks, Escape closes.
 * A pick inserts "@Name " and remembers the account, which ``mentions()`` returns for
 * as long as the text still names it (chat/mentions.js).
 *
 * Invariant: while the list is open its keys are the list's (they run before the
 * composer's own Enter-to-send, in the capture phase); names go in as textContent.
 * @module
 */

import { insertMention, mentionAt, mentionsIn, suggest } from '../chat/mentions.js';
import { h, hueOf, initials, replace } from './dom.js';

/**
 * @typedef {import('../chat/mentions.js').Person} Person
 */

export class MentionPicker {
  /** @type {Map<string, string>} account -> the name inserted for it */
  chosen = new Map();
  /** @type {Array<{acct: string, name: string}>} */ options = [];
  active = 0;
  /** @type {{start: number, query: string} | null} */ at = null;

  /**
   * @param {HTMLTextAreaElement} input
   * @param {{members: () => Person[], me: string}} people
   */
  constructor(input, people) {
    this.input = input;
    this.people = people;
    this.list = h('ul', { class: 'mention-picker', role: 'listbox', id: 'mention-picker', 'aria-label': 'Mention someone', hidden: true });
    input.setAttribute('aria-controls', 'mention-picker');
    input.addEventListener('input', () => this.#update());
    input.addEventListener('click', () => this.#update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    input.addEventListener('keydown', (e) => this.#key(e), { capture: true });
  }

  /**
   * The picked accounts (and ``kept`` ones: an edited version's) the text still names.
   * @param {string[]} [kept]
   * @returns {string[]}
   */
  mentions(kept = []) {
    const members = this.people.members();
    for (const acct of kept) {
      const name = members.find((m) => m.acct === acct)?.name;
      if (name && !this.chosen.has(acct)) this.chosen.set(acct, name);
    }
    return mentionsIn(this.input.value, this.chosen);
  }

  /** Forget what was picked (the message went). */
  reset() {
    this.chosen.clear();
    this.close();
  }

  close() {
    this.at = null;
    this.list.hidden = true;
    this.input.removeAttribute('aria-activedescendant');
  }

  #update() {
    const caret = this.input.selectionStart ?? this.input.value.length;
    this.at = mentionAt(this.input.value, caret);
    this.options = this.at ? suggest(this.people.members(), this.at.query, this.people.me) : [];
    if (!this.at || !this.options.length) {
      this.close();
      return;
    }
    this.active = Math.min(this.active, this.options.length - 1);
    this.#render();
  }

  #render() {
    replace(this.list, ...this.options.map((p, i) => h('li', {
      role: 'option', id: `mention-option-${i}`, class: 'mention-option',
      'aria-selected': i === this.active ? 'true' : 'false', dataset: { acct: p.acct },
      // mousedown, not click: the input must keep its focus and caret.
      onmousedown: (/** @type {MouseEvent} */ e) => {
        e.preventDefault();
        this.#pick(i);
      },
    }, h('span', { class: 'avatar small', style: `--hue:${hueOf(p.acct)}`, 'aria-hidden': 'true', text: initials(p.name) }),
    h('span', { class: 'mention-name', text: p.name }))));
    this.list.hidden = false;
    this.input.setAttribute('aria-activedescendant', `mention-option-${this.active}`);
  }

  /** @param {KeyboardEvent} e */
  #key(e) {
    if (this.list.hidden || !this.at) return;
    const n = this.options.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.#render();
    } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      this.#pick(this.active);
    } else if (e.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  /** @param {number} i */
  #pick(i) {
    const person = this.options[i];
    if (!person || !this.at) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const next = insertMention(this.input.value, caret, this.at.start, person.name);
    this.chosen.set(person.acct, person.name);
    this.input.value = next.text;
    this.input.setSelectionRange(next.caret, next.caret);
    this.close();
    // The composer keeps its draft and typing state from input events.
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
  }
}
