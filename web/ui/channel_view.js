/**
 * A channel: header, history that loads as you scroll up, live messages, composer.
 *
 * Every stored row is opened by the host's SecureClient (e2e/secure.js) with the key
 * shares its history page brought; when it cannot produce text the row says why in plain
 * words, never showing the envelope. A row waiting for a key asks again by itself (with
 * backoff, and at once after a reconnect or a key backup restore) for as long as it is
 * shown. Message text is set with textContent only and links are not fetched or
 * previewed, so remote images never load. Above the composer, who else is typing here
 * (chat/presence.js); the composer says when this device types.
 *
 * Rich messaging (docs/protocol.md section 13): what was opened is folded by
 * chat/conversation.js -- edits, reactions, replies, deletes and timers -- and each row
 * is drawn by ui/message_row.js. Annotations (messages with ``re``) are opened like any
 * message but never get a row; a deleted or expired message leaves no row behind.
 * @module
 */

import { icon } from './icons.js';
import { editMessage, parse, reaction, textMessage } from '../chat/content.js';
import { Conversation } from '../chat/conversation.js';
import { Outbox } from '../chat/outbox.js';
import { fromEvent, Timeline } from '../chat/timeline.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { Reason } from '../e2e/reasons.js';
import { humanMessage, UserError } from '../protocol/errors.js';
import { confirmDeleteMessage, durationText, openChannelTimer, openEditHistory } from './dialogs.js';
import { h, replace } from './dom.js';
import { fillRow, frame, snippet } from './message_row.js';
import { roleAllows } from './sidebar.js';
import { toast } from './toast.js';

const PAGE = 50;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/**
 * @typedef {import('../chat/timeline.js').StoredMessage} StoredMessage
 * @typedef {import('../chat/conversation.js').Shown} Shown
 * @typedef {import('../chat/conversation.js').Held} Held
 */

/** Unsent text per channel (host/space/channel), kept while the page lives. */
const drafts = new Map();

export class ChannelView {
  timeline = new Timeline();
  loadingOlder = false;
  /** @type {Map<string, HTMLElement>} own messages not yet seen in the timeline */
  pendingRows = new Map();
  /** @type {Map<number, ReturnType<typeof setTimeout>>} rows waiting for a key, by seq */
  retries = new Map();
  /** @type {Map<string, HTMLElement>} the row of each shown message, by id */
  rows = new Map();
  /** @type {Map<string, string>} the name each account was drawn with */
  names = new Map();
  /** @type {{kind: 'reply' | 'edit', shown: Shown, draft: string} | null} what the composer is doing */
  mode = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ expiryTimer;
  destroyed = false;
  /** @type {import('./mention_picker.js').MentionPicker | null} set by ui/awareness_view.js */
  mentionPicker = null;

  /**
   * @param {import('../chat/host_session.js').HostSession} session
   * @param {import('../e2e/secure.js').SecureClient} secure
   * @param {import('../chat/host_session.js').Space} space
   * @param {import('../chat/host_session.js').Channel} channel
   * @param {{nameOf: (acct: string) => string, myAccount: string, ensureRecovery: () => Promise<boolean>,
   *   presence: import('../chat/presence.js').Presence}} people
   */
  constructor(session, secure, space, channel, people) {
    this.session = session;
    this.secure = secure;
    this.space = space;
    this.channel = channel;
    this.people = people;
    this.conversation = new Conversation(people.myAccount);
    /** @type {import('./message_row.js').RowActions} */
    this.actions = {
      nameOf: (acct) => this.#nameOf(acct),
      me: people.myAccount,
      moderator: roleAllows(space.role, 'admin'),
      reply: (shown) => this.#setMode('reply', shown),
      edit: (shown) => this.#setMode('edit', shown),
      react: (shown, emoji, on) => void this.#send(reaction(shown.id, emoji, on)),
      remove: (shown) => void this.#delete(shown),
      history: (shown) => void openEditHistory(shown, this.#nameOf(shown.acct)),
      jump: (id) => this.#jump(id),
    };
    this.outbox = new Outbox(session, secure, space.id, channel.id);
    this.outbox.addEventListener('change', (e) => this.#showOutgoing(/** @type {CustomEvent} */ (e).detail));
    this.list = h('ol', { class: 'messages', 'aria-label': `Messages in ${channel.name}`, 'aria-live': 'polite' });
    this.startMarker = h('li', { class: 'history-start', hidden: true },
      h('strong', { text: `This is the start of #${channel.name}` }),
      h('span', { text: 'Messages are end-to-end encrypted: only members can read them.' }));
    this.loader = h('li', { class: 'history-loading', text: 'Loading earlier messages…' });
    this.scroller = h('div', { class: 'scroller', onscroll: () => this.#maybeLoadOlder() },
      h('div', { class: 'scroller-fill' }), this.list);
    this.list.append(this.startMarker, this.loader);
    this.timerBar = h('div', { class: 'channel-timer', id: 'channel-timer' });
    this.#renderTimer();
    this.composer = this.#composer();
    this.el = h('section', { class: 'channel', 'aria-label': `Channel ${channel.name}` },
      this.timerBar, this.scroller, this.composer);
    this.onPresence = () => this.renderTyping();
    people.presence.addEventListener('change', this.onPresence);
    this.onMessage = (/** @type {Event} */ e) => this.#onLive(/** @type {CustomEvent} */ (e).detail.body);
    this.onDeleted = (/** @type {Event} */ e) => {
      const body = /** @type {CustomEvent} */ (e).detail.body;
      if (body.space === this.space.id && body.chan === this.channel.id) this.#erase(body.info?.ids ?? []);
    };
    this.onChannel = (/** @type {Event} */ e) => {
      const body = /** @type {CustomEvent} */ (e).detail.body;
      if (body.space !== this.space.id || body.chan !== this.channel.id || !body.info?.channel) return;
      Object.assign(this.channel, body.info.channel);
      this.#renderTimer();
    };
    this.onResumed = () => {
      void this.catchUp();
      this.retryUnreadable();
    };
    session.addEventListener('message', this.onMessage);
    session.addEventListener('del', this.onDeleted);
    session.addEventListener('chan', this.onChannel);
    session.addEventListener('resumed', this.onResumed);
  }

  destroy() {
    this.destroyed = true;
    this.outbox.destroy();
    for (const timer of this.retries.values()) clearTimeout(timer);
    clearTimeout(this.expiryTimer);
    this.session.removeEventListener('message', this.onMessage);
    this.session.removeEventListener('del', this.onDeleted);
    this.session.removeEventListener('chan', this.onChannel);
    this.session.removeEventListener('resumed', this.onResumed);
    this.people.presence.removeEventListener('change', this.onPresence);
    this.people.presence.stopTyping(this.space.id, this.channel.id);
  }

  /** "Alice is typing…" above the composer (names through textContent only). */
  renderTyping() {
    const names = this.people.presence.typers(this.space.id, this.channel.id).map((a) => this.people.nameOf(a));
    const text = names.length === 0 ? ''
      : names.length === 1 ? `${names[0]} is typing…`
        : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
          : names.length === 3 ? `${names[0]}, ${names[1]} and ${names[2]} are typing…`
            : 'Several people are typing…';
    if (this.typingLine.textContent !== text) this.typingLine.textContent = text;
  }

  /** The disappearing-message banner, and for admins the way to change the timer. */
  #renderTimer() {
    const ttl = this.channel.ttl_s ?? 0;
    const admin = roleAllows(this.space.role, 'admin');
    replace(this.timerBar,
      ttl ? h('span', { class: 'timer-text', role: 'status' }, icon('clock'),
        h('span', { text: `Messages disappear after ${durationText(ttl)}` })) : null,
      admin ? h('button', {
        type: 'button', class: 'link-button timer-settings', 'aria-label': 'Disappearing messages settings',
        text: ttl ? 'Change' : 'Disappearing messages: off',
        onclick: async () => {
          const changed = await openChannelTimer(this.session, this.space, this.channel);
          if (changed && !this.destroyed) {
            Object.assign(this.channel, changed);
            this.#renderTimer();
          }
        },
      }) : null);
    this.timerBar.dataset.ttl = String(ttl);
    this.timerBar.hidden = !ttl && !admin;
  }

  /** Load the newest page and show it, scrolled to the bottom. */
  async open() {
    try {
      const r = await this.session.call('history', { space: this.space.id, chan: this.channel.id, limit: PAGE });
      const fresh = this.timeline.add(r.messages);
      this.timeline.atStart = !r.more;
      this.#insert(fresh, 'bottom', r.keys);
      this.#updateStart();
      this.scroller.scrollTop = this.scroller.scrollHeight;
      // A short first page may not fill the view (a page of annotations shows no rows
      // at all): keep loading until it scrolls or the start is reached.
      await this.#maybeLoadOlder();
    } catch (e) {
      this.loader.textContent = humanMessage(e);
      this.loader.classList.add('error');
    }
  }

  #updateStart() {
    this.startMarker.hidden = !this.timeline.atStart;
    this.loader.hidden = this.timeline.atStart;
  }

  async #maybeLoadOlder() {
    if (this.loadingOlder || this.timeline.atStart || this.scroller.scrollTop > 200) return;
    this.loadingOlder = true;
    try {
      const before = this.timeline.oldest === Infinity ? undefined : this.timeline.oldest;
      const r = await this.session.call('history',
        { space: this.space.id, chan: this.channel.id, limit: PAGE, ...(before ? { before } : {}) });
      const fresh = this.timeline.add(r.messages);
      this.timeline.atStart = !r.more;
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      this.#insert(fresh, 'top', r.keys);
      this.#updateStart();
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom; // keep the reader's place
    } catch (e) {
      this.loader.textContent = humanMessage(e);
    } finally {
      this.loadingOlder = false;
    }
    if (!this.timeline.atStart && this.scroller.scrollTop <= 200) await this.#maybeLoadOlder();
  }

  /** Fetch everything after the newest held message (after a reconnect or a gap). */
  async catchUp() {
    try {
      for (;;) {
        const r = await this.session.call('history',
          { space: this.space.id, chan: this.channel.id, after: this.timeline.newest, limit: 200 });
        this.#insert(this.timeline.add(r.messages), 'bottom', r.keys);
        if (!r.more) break;
      }
    } catch (e) {
      console.warn('hearth: could not catch up', e);
    }
  }

  /** @param {Record<string, any>} body a verified event */
  #onLive(body) {
    if (body.space !== this.space.id || body.chan !== this.channel.id) return;
    const place = this.timeline.place(body.seq);
    if (place === 'gap') {
      void this.catchUp();
    } else if (place === 'next') {
      this.#insert(this.timeline.add([fromEvent(body)]), 'bottom');
    }
  }

  /**
   * @param {StoredMessage} m
   * @param {import('../chat/content.js').Content | null} content
   * @param {{name: string, text: string} | null} [failure]
   * @returns {Held}
   */
  #held(m, content, failure = null) {
    return { seq: m.seq, id: m.id, acct: m.acct, ts: m.ts, re: m.re ?? null, exp: m.exp ?? null,
      del: Boolean(m.del), content, failure };
  }

  /**
   * @param {StoredMessage[]} messages ascending
   * @param {'top' | 'bottom'} where
   * @param {import('../e2e/secure.js').ShareItem[]} [shares] the key shares of their page
   */
  #insert(messages, where, shares = []) {
    if (!messages.length) return;
    const stick = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 40;
    // The page's shares are opened once, before its rows, so rows never race for them.
    const keysReady = shares.length
      ? this.secure.acceptShares(this.space.id, this.channel.id, shares).catch((e) => console.warn('hearth: key shares', e))
      : Promise.resolve();
    /** @type {HTMLElement[]} */
    const rows = [];
    for (const m of messages) {
      if (m.del || m.re) {
        // A tombstone removes; an annotation is opened and folded, never a row.
        if (m.del) this.#apply(this.conversation.add(this.#held(m, null)));
        else void keysReady.then(() => this.#open(m, RETRY_FIRST_MS));
        continue;
      }
      this.conversation.add(this.#held(m, null));
      const shown = this.conversation.shown(m.id);
      if (!shown || this.rows.has(m.id)) continue;
      const row = h('li', { class: 'message' });
      fillRow(row, shown, this.actions);
      this.rows.set(m.id, row);
      rows.push(row);
      void keysReady.then(() => this.#open(m, RETRY_FIRST_MS));
    }
    if (where === 'top') this.loader.after(...rows);
    else {
      const firstPending = this.list.querySelector('.message.pending');
      for (const row of rows) this.list.insertBefore(row, firstPending);
    }
    for (const m of messages) {
      this.pendingRows.get(m.id)?.remove();
      this.pendingRows.delete(m.id);
    }
    this.#regroup();
    if (where === 'bottom' && stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /**
   * Redraw the rows whose look changed; drop those no longer shown.
   * @param {Iterable<string>} ids
   */
  #apply(ids) {
    for (const id of ids) {
      const row = this.rows.get(id);
      const shown = this.conversation.shown(id);
      if (row && shown) fillRow(row, shown, this.actions);
      else if (row) {
        row.remove();
        this.rows.delete(id);
      }
      if (!shown && this.mode?.shown.id === id) this.#setMode(null);
    }
    this.#regroup();
    this.#scheduleExpiry();
  }

  /**
   * Messages the host deleted (or erased at their timer): gone from this view.
   * @param {string[]} ids
   */
  #erase(ids) {
    this.timeline.erase(ids);
    this.#apply(this.conversation.remove(ids));
  }

  /** Drop each message at its ``exp``, even if the host's ``del`` never arrives. */
  #scheduleExpiry() {
    clearTimeout(this.expiryTimer);
    const next = this.conversation.nextExpiry();
    if (next === null || this.destroyed) return;
    this.expiryTimer = setTimeout(() => {
      if (!this.destroyed) this.#apply(this.conversation.expire(Date.now()));
    }, Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1));
  }

  /** Consecutive messages from one person within five minutes share one header. */
  #regroup() {
    /** @type {HTMLElement | null} */
    let previous = null;
    for (const row of /** @type {NodeListOf<HTMLElement>} */ (this.list.querySelectorAll('.message'))) {
      const continued = previous !== null && previous.dataset.acct === row.dataset.acct
        && Number(row.dataset.ts) - Number(previous.dataset.ts) < 5 * 60_000
        && !row.querySelector('.reply-ref');
      row.classList.toggle('continued', continued);
      // One reason per run of messages that cannot be shown for the same reason.
      row.classList.toggle('same-reason', continued && row.dataset.reason !== undefined
        && row.dataset.reason === previous?.dataset.reason);
      previous = row;
    }
  }

  /**
   * A name as drawn, remembered so a renamed member is redrawn.
   * @param {string} acct
   */
  #nameOf(acct) {
    const name = this.people.nameOf(acct);
    this.names.set(acct, name);
    return name;
  }

  /** Show the names the member list now knows (rows are redrawn only if one changed). */
  refreshNames() {
    if ([...this.names].every(([acct, name]) => this.people.nameOf(acct) === name)) return;
    this.#apply([...this.rows.keys()]);
  }

  /**
   * Open one message and fold what it says, or its reason; a reason that retries asks
   * again after ``wait`` ms (doubling), for as long as this view holds the message.
   * @param {StoredMessage} m
   * @param {number} wait
   */
  async #open(m, wait) {
    clearTimeout(this.retries.get(m.seq));
    this.retries.delete(m.seq);
    /** @type {import('../chat/content.js').Content | null} */
    let content = null;
    /** @type {{name: string, text: string} | null} */
    let failure = null;
    let retry = false;
    try {
      const shown = await this.secure.show(this.space.id, this.channel.id, m);
      if (shown.ok) {
        try {
          content = parse(shown.text);
        } catch (e) {
          if (!(e instanceof HearthError)) throw e;
          failure = Reason.BAD_CONTENT;
          console.info('hearth: cannot show message', m.seq, e.message);
        }
      } else {
        failure = shown.reason;
        retry = shown.reason.retry;
        console.info('hearth: cannot show message', m.seq, shown.reason.name, shown.detail);
      }
    } catch (e) {
      // The host could not be asked (offline, reconnecting): not the message's fault.
      failure = { name: 'unreachable', text: `could not reach the host to fetch its key — retrying (${humanMessage(e)})` };
      retry = true;
    }
    if (this.destroyed || this.conversation.gone.has(m.id)) return;
    this.#apply(this.conversation.add(this.#held(m, content, failure)));
    if (failure) {
      if (retry) {
        this.retries.set(m.seq, setTimeout(() => {
          if (!this.destroyed && !this.conversation.gone.has(m.id)) void this.#open(m, Math.min(wait * 2, RETRY_MAX_MS));
        }, wait));
      }
      this.unreadable.set(m.seq, () => void this.#open(m, RETRY_FIRST_MS));
    } else {
      this.unreadable.delete(m.seq);
    }
  }

  /** @type {Map<number, () => void>} how to open each row not shown yet, once more */
  unreadable = new Map();

  /**
   * Try every row not shown yet once more, whatever its reason: after a reconnect, or
   * after a key backup restore (which can turn "sent before this device was added" into
   * text).
   */
  retryUnreadable() {
    for (const again of [...this.unreadable.values()]) again();
  }

  /**
   * Scroll to a message if it is loaded, and show where it is.
   * @param {string} id
   */
  #jump(id) {
    const row = this.rows.get(id);
    if (!row) {
      toast('The original message is not loaded here. Scroll up to find it.', 'info');
      return;
    }
    row.scrollIntoView({ block: 'center' });
    row.classList.add('highlight');
    setTimeout(() => row.classList.remove('highlight'), 1500);
  }

  /**
   * Send content: a text, an edit or a reaction (through the outbox, encrypted).
   * @param {import('../chat/content.js').Content} content
   * @returns {Promise<boolean>} whether it was queued
   */
  async #send(content) {
    try {
      // One recovery secret before the first message (a reaction is a message too).
      if (!(await this.people.ensureRecovery())) return false;
      void this.outbox.send(content);
      return true;
    } catch (err) {
      toast(humanMessage(plainWords(err)), 'error');
      return false;
    }
  }

  /**
   * Delete a message for everyone, once the user confirms.
   * @param {Shown} shown
   */
  async #delete(shown) {
    await confirmDeleteMessage(async () => {
      const r = await this.session.call('message.delete', { space: this.space.id, chan: this.channel.id, id: shown.id });
      this.#erase(r.deleted ?? [shown.id]);
    }, shown.acct === this.people.myAccount);
  }

  /** @param {import('../chat/outbox.js').Outgoing} item */
  #showOutgoing(item) {
    if (item.re) {
      // Edits and reactions show once stored (the event folds them); only a failure is said.
      if (item.state === 'failed' && !item.transient) {
        toast(`Your ${item.content.t === 'edit' ? 'edit' : 'reaction'} was not sent. ${item.error ?? ''}`, 'error');
      }
      return;
    }
    if (item.state === 'stored' && item.seq !== undefined && this.timeline.bySeq.has(item.seq)) {
      this.pendingRows.get(item.id)?.remove();
      this.pendingRows.delete(item.id);
      return;
    }
    const status = item.state === 'sending' ? h('span', { class: 'send-state', text: 'Sending…' })
      : item.state === 'stored' ? h('span', { class: 'send-state stored', text: 'Stored ✓' })
        : h('span', { class: 'send-state failed' },
          h('span', { text: `Not sent. ${item.error ?? ''} ` }),
          h('button', { type: 'button', class: 'link-button', text: 'Retry', onclick: () => void this.outbox.retry(item.id) }));
    const { row, main } = frame(this.people.nameOf(this.people.myAccount), this.people.myAccount, item.ts,
      { id: item.id, state: item.state }, `own pending ${item.state}`);
    main.append(h('div', { class: 'message-body' }, h('span', { text: item.text }), status));
    const old = this.pendingRows.get(item.id);
    if (old) old.replaceWith(row);
    else this.list.append(row);
    this.pendingRows.set(item.id, row);
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /**
   * Reply to, or edit, a message from the composer (null: back to a plain message).
   * @param {'reply' | 'edit' | null} kind
   * @param {Shown} [shown]
   */
  #setMode(kind, shown) {
    const input = this.input;
    if (this.mode?.kind === 'edit') input.value = this.mode.draft; // what was typed before the edit
    this.mode = kind && shown ? { kind, shown, draft: input.value } : null;
    if (!this.mode || !shown) {
      replace(this.modeBar);
      this.modeBar.hidden = true;
      delete this.composer.dataset.mode;
      return;
    }
    this.composer.dataset.mode = this.mode.kind;
    const cancel = h('button', {
      type: 'button', class: 'icon-button mode-cancel', 'aria-label': kind === 'edit' ? 'Cancel edit' : 'Cancel reply',
      title: 'Cancel (Esc)', onclick: () => { this.#setMode(null); input.focus(); },
    }, icon('x'));
    if (kind === 'edit') {
      replace(this.modeBar, icon('pencil'), h('span', { class: 'mode-text', text: 'Editing your message · Enter to save, Esc to cancel' }), cancel);
      input.value = shown.body ?? '';
    } else {
      replace(this.modeBar, icon('reply'),
        h('span', { class: 'mode-text' }, 'Replying to ', h('strong', { text: this.#nameOf(shown.acct) }),
          h('span', { class: 'mode-quote', text: `: ${snippet(shown.body ?? '', 80)}` })),
        cancel);
    }
    this.modeBar.hidden = false;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** @returns {HTMLElement} */
  #composer() {
    const input = /** @type {HTMLTextAreaElement} */ (h('textarea', {
      class: 'composer-input', rows: 1, maxlength: 4000,
      'aria-label': `Message #${this.channel.name}`,
      placeholder: `Message #${this.channel.name}`,
    }));
    this.input = input;
    // A view can be rebuilt under the user's fingers (a channel list refresh, a
    // reconnect, switching away and back): what they typed survives it.
    const draftKey = `${this.session.hostId}/${this.space.id}/${this.channel.id}`;
    input.value = drafts.get(draftKey) ?? '';
    input.addEventListener('keydown', async (e) => {
      if (e.key === 'Escape' && this.mode) {
        e.preventDefault();
        e.stopPropagation();
        this.#setMode(null);
        return;
      }
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        const mode = this.mode;
        // Members picked from the @mention list (or kept from the edited version) that
        // the text still names.
        const mentions = this.mentionPicker?.mentions(mode?.kind === 'edit' ? mode.shown.mentions : []) ?? [];
        let content;
        try {
          content = mode?.kind === 'edit'
            ? editMessage(mode.shown, this.people.myAccount, text, mentions)
            : textMessage(text, { mentions, ...(mode?.kind === 'reply' && mode.shown.body !== null
              ? { parent: { id: mode.shown.id, acct: mode.shown.acct, body: mode.shown.body } } : {}) });
        } catch (err) {
          toast(humanMessage(plainWords(err)), 'error');
          return;
        }
        if (mode?.kind === 'edit' && text === mode.shown.body) {
          this.#setMode(null); // nothing changed: no new version
          return;
        }
        // One recovery secret before the first message: what the text stays in the box for.
        if (!(await this.#send(content))) return;
        if (mode?.kind === 'edit') {
          this.mode = { ...mode, draft: '' };
          this.#setMode(null);
        } else {
          this.#setMode(null);
          input.value = '';
        }
        drafts.delete(draftKey);
        this.mentionPicker?.reset();
        input.style.height = 'auto';
        this.people.presence.stopTyping(this.space.id, this.channel.id);
      }
    });
    input.addEventListener('input', () => {
      if (input.value) drafts.set(draftKey, input.value);
      else drafts.delete(draftKey);
      input.style.height = 'auto';
      input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
      if (input.value.trim()) this.people.presence.typing(this.space.id, this.channel.id);
      else this.people.presence.stopTyping(this.space.id, this.channel.id);
    });
    this.typingLine = h('div', { class: 'typing-line', 'aria-live': 'polite' });
    this.modeBar = h('div', { class: 'composer-mode', role: 'status', hidden: true });
    return h('div', { class: 'composer', dataset: { ready: 'true' } },
      this.typingLine,
      this.modeBar,
      h('div', { class: 'composer-box' }, input),
      h('p', { class: 'composer-hint' }, icon('lock'), h('span', { text: ' End-to-end encrypted · Enter to send · Shift+Enter for a new line' })));
  }
}

/**
 * A content refusal in words for a person (the composer's own checks).
 * @param {unknown} err
 * @returns {unknown}
 */
function plainWords(err) {
  if (!(err instanceof HearthError)) return err;
  if (err.code === ErrorCode.NOT_AUTHOR) return new UserError('Only the author of a message can edit it.');
  return new UserError(`That cannot be sent: ${err.message.slice(err.code.length + 2)}.`);
}
