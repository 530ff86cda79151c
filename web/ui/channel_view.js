/**
 * A channel: its message list (history paged in by ui/history_pager.js as you scroll
 * up, live messages, own messages until they are stored) and its composer
 * (ui/composer.js).
 *
 * Every stored row is opened by the host's SecureClient (e2e/secure.js) with the key
 * shares its history page brought; when it cannot produce text the row says why in plain
 * words, never showing the envelope. A row waiting for a key asks again by itself (with
 * backoff, and at once after a reconnect or a key backup restore) for as long as it is
 * shown. Message text is set with textContent only and links are not fetched or
 * previewed, so remote images never load.
 *
 * Rich messaging (docs/protocol.md section 13): what was opened is folded by
 * chat/conversation.js -- edits, reactions, replies, deletes and timers -- and each row
 * is drawn by ui/message_row.js. Annotations (messages with ``re``) are opened like any
 * message but never get a row; a deleted or expired message leaves no row behind.
 * @module
 */

import { icon } from './icons.js';
import { parse, reaction } from '../chat/content.js';
import { Conversation, held } from '../chat/conversation.js';
import { Outbox } from '../chat/outbox.js';
import { fromEvent, Timeline } from '../chat/timeline.js';
import { HearthError } from '../crypto/errors.js';
import { Reason } from '../e2e/reasons.js';
import { humanMessage } from '../protocol/errors.js';
import { Composer, plainWords } from './composer.js';
import { confirmDeleteMessage, durationText, openChannelTimer, openEditHistory } from './dialogs.js';
import { h, replace } from './dom.js';
import { HistoryPager } from './history_pager.js';
import { fillRow, frame } from './message_row.js';
import { roleAllows } from './sidebar.js';
import { toast } from './toast.js';

const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/**
 * @typedef {import('../chat/timeline.js').StoredMessage} StoredMessage
 * @typedef {import('../chat/conversation.js').Shown} Shown
 */

export class ChannelView {
  timeline = new Timeline();
  /** @type {Map<string, HTMLElement>} own messages not yet seen in the timeline */
  pendingRows = new Map();
  /** @type {Map<number, ReturnType<typeof setTimeout>>} rows waiting for a key, by seq */
  retries = new Map();
  /** @type {Map<string, HTMLElement>} the row of each shown message, by id */
  rows = new Map();
  /** @type {Map<string, string>} the name each account was drawn with */
  names = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */ expiryTimer;
  destroyed = false;
  /** @type {Map<number, () => void>} how to open each row not shown yet, once more */
  unreadable = new Map();

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
      reply: (shown) => this.composer.setMode('reply', shown),
      edit: (shown) => this.composer.setMode('edit', shown),
      react: (shown, emoji, on) => void this.#send(reaction(shown.id, emoji, on)),
      remove: (shown) => void this.#delete(shown),
      history: (shown) => void openEditHistory(shown, this.#nameOf(shown.acct)),
      jump: (id) => this.#jump(id),
    };
    this.outbox = new Outbox(session, secure, space.id, channel.id);
    this.outbox.addEventListener('change', (e) => this.#showOutgoing(/** @type {CustomEvent} */ (e).detail));
    this.list = h('ol', { class: 'messages', 'aria-label': `Messages in ${channel.name}`, 'aria-live': 'polite' });
    this.scroller = h('div', { class: 'scroller' }, h('div', { class: 'scroller-fill' }), this.list);
    this.history = new HistoryPager(session, { space: space.id, chan: channel.id, channelName: channel.name },
      this.timeline, this.scroller, (messages, where, shares) => this.#insert(messages, where, shares));
    this.list.append(this.history.startMarker, this.history.loader);
    this.timerBar = h('div', { class: 'channel-timer', id: 'channel-timer' });
    this.#renderTimer();
    this.composer = new Composer({
      draftKey: `${session.hostId}/${space.id}/${channel.id}`, channelName: channel.name,
      space: space.id, chan: channel.id, me: people.myAccount, presence: people.presence,
      nameOf: (acct) => this.#nameOf(acct), send: (content) => this.#send(content),
    });
    this.el = h('section', { class: 'channel', 'aria-label': `Channel ${channel.name}` },
      this.timerBar, this.scroller, this.composer.el);
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
    this.composer.destroy();
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

  /** Load the newest page and show it (history_pager.js). */
  open() {
    return this.history.open();
  }

  /** Fetch everything after the newest held message (after a reconnect or a gap). */
  catchUp() {
    return this.history.catchUp();
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
        if (m.del) this.#apply(this.conversation.add(held(m, null)));
        else void keysReady.then(() => this.#open(m, RETRY_FIRST_MS));
        continue;
      }
      this.conversation.add(held(m, null));
      const shown = this.conversation.shown(m.id);
      if (!shown || this.rows.has(m.id)) continue;
      const row = h('li', { class: 'message' });
      fillRow(row, shown, this.actions);
      this.rows.set(m.id, row);
      rows.push(row);
      void keysReady.then(() => this.#open(m, RETRY_FIRST_MS));
    }
    if (where === 'top') this.history.loader.after(...rows);
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
      if (!shown) this.composer.gone(id);
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
    this.#apply(this.conversation.add(held(m, content, failure)));
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
}
