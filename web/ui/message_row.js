/**
 * One message row of a channel: author, time, the reply it quotes, its text (or why it
 * cannot be shown), "(edited)", reaction chips, and the actions a hover or keyboard
 * focus reveals (Reply, React, Edit, Delete).
 *
 * Invariant: every piece of text -- bodies, quotes, names, emoji -- goes in through
 * textContent (ui/dom.js), so nothing a member sends can become markup. A row shows
 * Edit only on one's own messages and Delete on one's own or, for admins, on anyone's;
 * the host enforces the same (docs/protocol.md section 13.3).
 * @module
 */

import { icon } from './icons.js';
import { h, hueOf, initials, replace } from './dom.js';

/** The handful of reactions the picker offers. */
export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/**
 * @typedef {import('../chat/conversation.js').Shown} Shown
 *
 * @typedef {object} RowActions what a row's buttons do, and who is looking
 * @property {(acct: string) => string} nameOf
 * @property {string} me this device's account
 * @property {boolean} moderator an admin or owner: may delete anyone's message
 * @property {(shown: Shown) => void} reply
 * @property {(shown: Shown, emoji: string, on: boolean) => void} react
 * @property {(shown: Shown) => void} edit
 * @property {(shown: Shown) => void} remove
 * @property {(shown: Shown) => void} history the earlier versions of an edited message
 * @property {(id: string) => void} jump scroll to a message, if it is loaded
 */

/**
 * @param {number} ts
 * @returns {string}
 */
export function timeOf(ts) {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}

/**
 * The first ``n`` characters of ``text`` on one line, for quotes.
 * @param {string} text
 * @param {number} [n]
 */
export function snippet(text, n = 120) {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > n ? `${chars.slice(0, n).join('')}…` : flat;
}

/**
 * A row's frame: avatar, author and time; ``main`` holds the rest.
 * @param {string} name
 * @param {string} acct
 * @param {number} ts
 * @param {Record<string, string>} dataset
 * @param {string} [extraClass]
 * @returns {{row: HTMLElement, meta: HTMLElement, main: HTMLElement}}
 */
export function frame(name, acct, ts, dataset, extraClass = '') {
  const meta = h('div', { class: 'message-meta' },
    h('span', { class: 'author', text: name, title: acct }),
    h('time', { datetime: new Date(ts).toISOString(), text: timeOf(ts) }));
  const main = h('div', { class: 'message-main' }, meta);
  const row = h('li', { class: `message ${extraClass}`.trim(), dataset: { ...dataset, acct, ts: String(ts) } },
    h('span', { class: 'avatar', style: `--hue:${hueOf(acct)}`, 'aria-hidden': 'true', text: initials(name) }),
    main);
  return { row, meta, main };
}

/**
 * Show ``shown`` in ``row`` (an existing ``li``, kept in its place).
 * @param {HTMLElement} row
 * @param {Shown} shown
 * @param {RowActions} act
 */
export function fillRow(row, shown, act) {
  const name = act.nameOf(shown.acct);
  const fresh = frame(name, shown.acct, shown.ts, {});
  // Only what this row owns is reset: other layers (ui/channel_marks.js) add their own
  // classes and elements and lay them again after each redraw.
  row.classList.add('message');
  row.classList.remove('undecryptable');
  for (const key of ['reason', 'reasonCode', 'edited', 'exp']) delete row.dataset[key];
  Object.assign(row.dataset, { seq: String(shown.seq), id: shown.id, acct: shown.acct, ts: String(shown.ts) });
  if (shown.exp !== null) row.dataset.exp = String(shown.exp);
  const body = h('div', { class: 'message-body' });
  if (shown.body !== null) {
    body.append(h('span', { class: 'message-text', text: shown.body }));
  } else if (shown.failure) {
    row.classList.add('undecryptable');
    row.dataset.reason = shown.failure.text;
    row.dataset.reasonCode = shown.failure.name;
    replace(body, icon('lock'), h('span', {},
      h('span', { class: 'undecryptable-title', text: 'Can’t show this message:' }),
      h('span', { class: 'reason', text: ` ${shown.failure.text}` })));
  } else {
    body.textContent = 'Decrypting…';
  }
  if (shown.edited) {
    // After the text, not in the header: a continued row hides its header.
    row.dataset.edited = 'true';
    body.append(' ', h('button', {
      type: 'button', class: 'edited-mark link-button', text: '(edited)',
      title: 'Show earlier versions', 'aria-label': 'Edited: show earlier versions',
      onclick: () => act.history(shown),
    }));
  }
  if (shown.reply) fresh.main.prepend(replyRef(shown, act));
  fresh.main.append(body);
  if (shown.reactions.length) fresh.main.append(reactionChips(shown, act));
  if (shown.body !== null) fresh.row.append(actions(row, shown, act));
  row.replaceChildren(...fresh.row.childNodes);
}

/**
 * The quoted parent above a reply; a button that scrolls to the parent when loaded.
 * @param {Shown} shown
 * @param {RowActions} act
 */
function replyRef(shown, act) {
  const reply = /** @type {NonNullable<Shown['reply']>} */ (shown.reply);
  const who = act.nameOf(reply.acct);
  const label = reply.state === 'deleted' ? `Reply to a deleted message`
    : `Reply to ${who}: ${snippet(reply.text, 80)}`;
  return h('button', {
    type: 'button', class: `reply-ref ${reply.state}`, dataset: { parent: reply.id, state: reply.state },
    'aria-label': label, title: reply.state === 'quoted' ? 'Quoted by the sender (the original is not loaded)' : 'Show the original message',
    onclick: () => act.jump(reply.id),
  }, icon('reply'),
  reply.state === 'deleted' ? h('span', { class: 'reply-text', text: reply.text })
    : [h('span', { class: 'reply-author', text: who }), h('span', { class: 'reply-text', text: snippet(reply.text) })]);
}

/**
 * Emoji chips with counts; the title lists who reacted; one's own chip toggles it off.
 * @param {Shown} shown
 * @param {RowActions} act
 */
function reactionChips(shown, act) {
  return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    ...shown.reactions.map((r) => {
      const names = r.accts.map((a) => (a === act.me ? 'You' : act.nameOf(a))).join(', ');
      return h('button', {
        type: 'button', class: `reaction-chip${r.mine ? ' mine' : ''}`, dataset: { emoji: r.emoji, count: String(r.accts.length) },
        'aria-pressed': r.mine ? 'true' : 'false', title: `${names} reacted with ${r.emoji}`,
        'aria-label': `${r.emoji} ${r.accts.length}: ${names}${r.mine ? '. Click to remove yours' : ''}`,
        onclick: () => act.react(shown, r.emoji, !r.mine),
      }, h('span', { class: 'reaction-emoji', text: r.emoji }), h('span', { class: 'reaction-count', text: String(r.accts.length) }));
    }));
}

/**
 * The hover/focus toolbar of a shown message.
 * @param {HTMLElement} row
 * @param {Shown} shown
 * @param {RowActions} act
 */
function actions(row, shown, act) {
  const mine = shown.acct === act.me;
  /** @param {string} label @param {'reply' | 'smile' | 'pencil' | 'trash'} name @param {string} cls @param {(e: MouseEvent) => void} run */
  const button = (label, name, cls, run) => h('button', {
    type: 'button', class: `icon-button ${cls}`, title: label, 'aria-label': label, onclick: run,
  }, icon(name));
  return h('div', { class: 'message-actions', role: 'toolbar', 'aria-label': 'Message actions' },
    button('Reply', 'reply', 'action-reply', () => act.reply(shown)),
    button('React', 'smile', 'action-react', () => togglePicker(row, shown, act)),
    mine ? button('Edit', 'pencil', 'action-edit', () => act.edit(shown)) : null,
    mine || act.moderator ? button('Delete', 'trash', 'action-delete danger', () => act.remove(shown)) : null);
}

/**
 * Open (or close) the small emoji picker of a row; Escape closes it.
 * @param {HTMLElement} row
 * @param {Shown} shown
 * @param {RowActions} act
 */
function togglePicker(row, shown, act) {
  const open = row.querySelector('.emoji-picker');
  if (open) {
    open.remove();
    return;
  }
  const mine = new Set(shown.reactions.filter((r) => r.mine).map((r) => r.emoji));
  const picker = h('div', {
    class: 'emoji-picker', role: 'group', 'aria-label': 'Pick a reaction',
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        picker.remove();
        /** @type {HTMLElement | null} */ (row.querySelector('.action-react'))?.focus();
      }
    },
  }, ...QUICK_EMOJI.map((emoji) => h('button', {
    type: 'button', class: 'emoji-choice', text: emoji, 'aria-label': `React with ${emoji}`,
    'aria-pressed': mine.has(emoji) ? 'true' : 'false',
    onclick: () => {
      picker.remove();
      act.react(shown, emoji, !mine.has(emoji));
    },
  })));
  row.querySelector('.message-main')?.append(picker);
  /** @type {HTMLElement | null} */ (picker.querySelector('button'))?.focus();
}
