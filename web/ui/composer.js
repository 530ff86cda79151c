/**
 * A channel's composer: the box a message is typed in, "who is typing" above it, and
 * the bar saying what it does (a plain message, a reply, an edit; docs/protocol.md
 * section 13.1). Enter turns the text into content (chat/content.js) and hands it to
 * the channel view to send; the @mention picker (ui/mention_picker.js, attached by
 * ui/awareness_view.js) says whom it names.
 *
 * Invariants: what was typed survives the view being rebuilt (a draft per
 * host/space/channel, kept while the page lives) and an edit started over it (the draft
 * comes back when the edit ends); the box is cleared only once the content was queued;
 * an edit that changes nothing makes no new version. Names go in as textContent.
 * @module
 */

import { icon } from './icons.js';
import { editMessage, textMessage } from '../chat/content.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { humanMessage, UserError } from '../protocol/errors.js';
import { h, replace } from './dom.js';
import { snippet } from './message_row.js';
import { toast } from './toast.js';

/**
 * @typedef {import('../chat/conversation.js').Shown} Shown
 * @typedef {import('../chat/content.js').Content} Content
 *
 * @typedef {object} ComposerSurroundings what the composer asks of its channel view
 * @property {string} draftKey host/space/channel
 * @property {string} channelName
 * @property {string} space
 * @property {string} chan
 * @property {string} me this account
 * @property {import('../chat/presence.js').Presence} presence
 * @property {(acct: string) => string} nameOf
 * @property {(content: Content) => Promise<boolean>} send queue content; false if it was not
 */

/** Unsent text per channel (host/space/channel), kept while the page lives. */
const drafts = new Map();

export class Composer {
  /** @type {{kind: 'reply' | 'edit', shown: Shown, draft: string} | null} what the composer is doing */
  mode = null;
  /** @type {import('./mention_picker.js').MentionPicker | null} set by ui/awareness_view.js */
  mentionPicker = null;

  /** @param {ComposerSurroundings} around */
  constructor(around) {
    this.around = around;
    this.input = /** @type {HTMLTextAreaElement} */ (h('textarea', {
      class: 'composer-input', rows: 1, maxlength: 4000,
      'aria-label': `Message #${around.channelName}`,
      placeholder: `Message #${around.channelName}`,
    }));
    // A view can be rebuilt under the user's fingers (a channel list refresh, a
    // reconnect, switching away and back): what they typed survives it.
    this.input.value = drafts.get(around.draftKey) ?? '';
    this.input.addEventListener('keydown', (e) => void this.#key(e));
    this.input.addEventListener('input', () => this.#typed());
    this.typingLine = h('div', { class: 'typing-line', 'aria-live': 'polite' });
    this.modeBar = h('div', { class: 'composer-mode', role: 'status', hidden: true });
    this.box = h('div', { class: 'composer-box' }, this.input);
    this.el = h('div', { class: 'composer', dataset: { ready: 'true' } },
      this.typingLine,
      this.modeBar,
      this.box,
      h('p', { class: 'composer-hint' }, icon('lock'), h('span', { text: ' End-to-end encrypted · Enter to send · Shift+Enter for a new line' })));
    this.onPresence = () => this.renderTyping();
    around.presence.addEventListener('change', this.onPresence);
  }

  destroy() {
    this.around.presence.removeEventListener('change', this.onPresence);
    this.around.presence.stopTyping(this.around.space, this.around.chan);
  }

  /** "Alice is typing…" above the box (names through textContent only). */
  renderTyping() {
    const { presence, space, chan, nameOf } = this.around;
    const names = presence.typers(space, chan).map((a) => nameOf(a));
    const text = names.length === 0 ? ''
      : names.length === 1 ? `${names[0]} is typing…`
        : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
          : names.length === 3 ? `${names[0]}, ${names[1]} and ${names[2]} are typing…`
            : 'Several people are typing…';
    if (this.typingLine.textContent !== text) this.typingLine.textContent = text;
  }

  /**
   * Reply to, or edit, a message (null: back to a plain message).
   * @param {'reply' | 'edit' | null} kind
   * @param {Shown} [shown]
   */
  setMode(kind, shown) {
    const input = this.input;
    if (this.mode?.kind === 'edit') input.value = this.mode.draft; // what was typed before the edit
    this.mode = kind && shown ? { kind, shown, draft: input.value } : null;
    if (!this.mode || !shown) {
      replace(this.modeBar);
      this.modeBar.hidden = true;
      delete this.el.dataset.mode;
      return;
    }
    this.el.dataset.mode = this.mode.kind;
    const cancel = h('button', {
      type: 'button', class: 'icon-button mode-cancel', 'aria-label': kind === 'edit' ? 'Cancel edit' : 'Cancel reply',
      title: 'Cancel (Esc)', onclick: () => { this.setMode(null); input.focus(); },
    }, icon('x'));
    if (kind === 'edit') {
      replace(this.modeBar, icon('pencil'), h('span', { class: 'mode-text', text: 'Editing your message · Enter to save, Esc to cancel' }), cancel);
      input.value = shown.body ?? '';
    } else {
      replace(this.modeBar, icon('reply'),
        h('span', { class: 'mode-text' }, 'Replying to ', h('strong', { text: this.around.nameOf(shown.acct) }),
          h('span', { class: 'mode-quote', text: `: ${snippet(shown.body ?? '', 80)}` })),
        cancel);
    }
    this.modeBar.hidden = false;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /**
   * The message replied to or edited is no longer shown: back to a plain message.
   * @param {string} id
   */
  gone(id) {
    if (this.mode?.shown.id === id) this.setMode(null);
  }

  /** @param {KeyboardEvent} e */
  async #key(e) {
    if (e.key === 'Escape' && this.mode) {
      e.preventDefault();
      e.stopPropagation();
      this.setMode(null);
      return;
    }
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    const text = this.input.value.trim();
    if (!text) return;
    const mode = this.mode;
    const content = this.#content(text);
    if (!content) return;
    if (mode?.kind === 'edit' && text === mode.shown.body) {
      this.setMode(null); // nothing changed: no new version
      return;
    }
    // One recovery secret before the first message: what the text stays in the box for.
    if (!(await this.around.send(content))) return;
    if (mode?.kind === 'edit') {
      this.mode = { ...mode, draft: '' };
      this.setMode(null);
    } else {
      this.setMode(null);
      this.input.value = '';
    }
    drafts.delete(this.around.draftKey);
    this.mentionPicker?.reset();
    this.input.style.height = 'auto';
    this.around.presence.stopTyping(this.around.space, this.around.chan);
  }

  /**
   * What ``text`` sends in the current mode, or null (the refusal was said).
   * @param {string} text
   * @returns {Content | null}
   */
  #content(text) {
    const mode = this.mode;
    // Members picked from the @mention list (or kept from the edited version) that the
    // text still names.
    const mentions = this.mentionPicker?.mentions(mode?.kind === 'edit' ? mode.shown.mentions : []) ?? [];
    try {
      return mode?.kind === 'edit'
        ? editMessage(mode.shown, this.around.me, text, mentions)
        : textMessage(text, { mentions, ...(mode?.kind === 'reply' && mode.shown.body !== null
          ? { parent: { id: mode.shown.id, acct: mode.shown.acct, body: mode.shown.body } } : {}) });
    } catch (err) {
      toast(humanMessage(plainWords(err)), 'error');
      return null;
    }
  }

  /** Keep the draft, grow the box, and say whether this device is typing. */
  #typed() {
    const { input } = this;
    const { draftKey, presence, space, chan } = this.around;
    if (input.value) drafts.set(draftKey, input.value);
    else drafts.delete(draftKey);
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
    if (input.value.trim()) presence.typing(space, chan);
    else presence.stopTyping(space, chan);
  }
}

/**
 * A content refusal in words for a person (the client's own checks).
 * @param {unknown} err
 * @returns {unknown}
 */
export function plainWords(err) {
  if (!(err instanceof HearthError)) return err;
  if (err.code === ErrorCode.NOT_AUTHOR) return new UserError('Only the author of a message can edit it.');
  return new UserError(`That cannot be sent: ${err.message.slice(err.code.length + 2)}.`);
}
