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
 * @module
 */

import { icon } from './icons.js';
import { Outbox } from '../chat/outbox.js';
import { Timeline } from '../chat/timeline.js';
import { humanMessage } from '../protocol/errors.js';
import { h, hueOf, initials, replace } from './dom.js';
import { toast } from './toast.js';

const PAGE = 50;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/**
 * @typedef {import('../chat/timeline.js').StoredMessage} StoredMessage
 */

/**
 * @param {number} ts
 * @returns {string}
 */
function timeOf(ts) {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}

/** Unsent text per channel (host/space/channel), kept while the page lives. */
const drafts = new Map();

export class ChannelView {
  timeline = new Timeline();
  loadingOlder = false;
  /** @type {Map<string, HTMLElement>} own messages not yet seen in the timeline */
  pendingRows = new Map();
  /** @type {Map<number, ReturnType<typeof setTimeout>>} rows waiting for a key, by seq */
  retries = new Map();
  destroyed = false;

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
    this.composer = this.#composer();
    this.el = h('section', { class: 'channel', 'aria-label': `Channel ${channel.name}` },
      this.scroller, this.composer);
    this.onPresence = () => this.renderTyping();
    people.presence.addEventListener('change', this.onPresence);
    this.onMessage = (/** @type {Event} */ e) => this.#onLive(/** @type {CustomEvent} */ (e).detail.body);
    this.onResumed = () => {
      void this.catchUp();
      this.retryUnreadable();
    };
    session.addEventListener('message', this.onMessage);
    session.addEventListener('resumed', this.onResumed);
  }

  destroy() {
    this.destroyed = true;
    this.outbox.destroy();
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.session.removeEventListener('message', this.onMessage);
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

  /** Load the newest page and show it, scrolled to the bottom. */
  async open() {
    try {
      const r = await this.session.call('history', { space: this.space.id, chan: this.channel.id, limit: PAGE });
      const fresh = this.timeline.add(r.messages);
      this.timeline.atStart = !r.more;
      this.#insert(fresh, 'bottom', r.keys);
      this.#updateStart();
      this.scroller.scrollTop = this.scroller.scrollHeight;
      // A short first page may not fill the view: keep loading until it scrolls.
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
      const m = { seq: body.seq, id: body.id, acct: body.acct, dev: body.dev, ts: body.ts, env: body.env, sess: body.sess ?? null };
      this.#insert(this.timeline.add([m]), 'bottom');
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
    const rows = messages.map((m) => this.#row(m, keysReady));
    if (where === 'top') this.loader.after(...rows);
    else {
      const firstPending = this.list.querySelector('.message.pending');
      for (const row of rows) this.list.insertBefore(row, firstPending);
      for (const m of messages) this.pendingRows.get(m.id)?.remove();
    }
    this.#regroup();
    if (where === 'bottom' && stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Consecutive messages from one person within five minutes share one header. */
  #regroup() {
    /** @type {HTMLElement | null} */
    let previous = null;
    for (const row of /** @type {NodeListOf<HTMLElement>} */ (this.list.querySelectorAll('.message'))) {
      const continued = previous !== null && previous.dataset.acct === row.dataset.acct
        && Number(row.dataset.ts) - Number(previous.dataset.ts) < 5 * 60_000;
      row.classList.toggle('continued', continued);
      // One reason per run of messages that cannot be shown for the same reason.
      row.classList.toggle('same-reason', continued && row.dataset.reason !== undefined
        && row.dataset.reason === previous?.dataset.reason);
      previous = row;
    }
  }

  /** Show the names the member list now knows. */
  refreshNames() {
    for (const row of /** @type {NodeListOf<HTMLElement>} */ (this.list.querySelectorAll('.message'))) {
      const name = this.people.nameOf(row.dataset.acct ?? '');
      const author = row.querySelector('.author');
      if (author && author.textContent !== name) {
        author.textContent = name;
        const avatar = row.querySelector('.avatar');
        if (avatar) avatar.textContent = initials(name);
      }
    }
  }

  /**
   * @param {string} acct
   * @param {number} ts
   * @param {Node} body
   * @param {Record<string, string>} dataset
   * @param {string} [extraClass]
   * @returns {HTMLElement}
   */
  #frame(acct, ts, body, dataset, extraClass = '') {
    const name = this.people.nameOf(acct);
    return h('li', { class: `message ${extraClass}`, dataset: { ...dataset, acct, ts: String(ts) } },
      h('span', { class: 'avatar', style: `--hue:${hueOf(acct)}`, 'aria-hidden': 'true', text: initials(name) }),
      h('div', { class: 'message-main' },
        h('div', { class: 'message-meta' },
          h('span', { class: 'author', text: name, title: acct }),
          h('time', { datetime: new Date(ts).toISOString(), text: timeOf(ts) })),
        body));
  }

  /**
   * @param {StoredMessage} m
   * @param {Promise<unknown>} keysReady
   * @returns {HTMLElement}
   */
  #row(m, keysReady) {
    const body = h('div', { class: 'message-body', text: 'Decrypting…' });
    const row = this.#frame(m.acct, m.ts, body, { seq: String(m.seq), id: m.id });
    void keysReady.then(() => this.#decrypt(m, body, row, RETRY_FIRST_MS));
    return row;
  }

  /**
   * Open one message and show its text, or its reason; a reason that retries asks
   * again after ``wait`` ms (doubling), for as long as this view shows the row.
   * @param {StoredMessage} m
   * @param {HTMLElement} body
   * @param {HTMLElement} row
   * @param {number} wait
   */
  async #decrypt(m, body, row, wait) {
    clearTimeout(this.retries.get(m.seq));
    this.retries.delete(m.seq);
    /** @type {{ok: true, text: string} | {ok: false, reason: string, retry: boolean, code: string}} */
    let result;
    try {
      const shown = await this.secure.show(this.space.id, this.channel.id, m);
      result = shown.ok ? shown : { ok: false, reason: shown.reason.text, retry: shown.reason.retry, code: shown.reason.name };
      if (!shown.ok) console.info('hearth: cannot show message', m.seq, shown.reason.name, shown.detail);
    } catch (e) {
      // The host could not be asked (offline, reconnecting): not the message's fault.
      result = { ok: false, reason: `could not reach the host to fetch its key — retrying (${humanMessage(e)})`, retry: true, code: 'unreachable' };
    }
    if (this.destroyed) return;
    if (result.ok) {
      row.classList.remove('undecryptable');
      delete row.dataset.reason;
      delete row.dataset.reasonCode;
      body.textContent = result.text;
    } else {
      row.classList.add('undecryptable');
      row.dataset.reason = result.reason;
      row.dataset.reasonCode = result.code;
      replace(body, icon('lock'), h('span', {},
        h('span', { class: 'undecryptable-title', text: 'Can’t show this message:' }),
        h('span', { class: 'reason', text: ` ${result.reason}` })));
      if (result.retry) {
        this.retries.set(m.seq, setTimeout(() => {
          if (row.isConnected) void this.#decrypt(m, body, row, Math.min(wait * 2, RETRY_MAX_MS));
        }, wait));
      }
      this.unreadable.set(m.seq, () => void this.#decrypt(m, body, row, RETRY_FIRST_MS));
    }
    if (result.ok) this.unreadable.delete(m.seq);
    this.#regroup();
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

  /** @param {import('../chat/outbox.js').Outgoing} item */
  #showOutgoing(item) {
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
    const row = this.#frame(this.people.myAccount, item.ts,
      h('div', { class: 'message-body' }, h('span', { text: item.text }), status),
      { id: item.id, state: item.state }, `own pending ${item.state}`);
    const old = this.pendingRows.get(item.id);
    if (old) old.replaceWith(row);
    else this.list.append(row);
    this.pendingRows.set(item.id, row);
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** @returns {HTMLElement} */
  #composer() {
    const input = /** @type {HTMLTextAreaElement} */ (h('textarea', {
      class: 'composer-input', rows: 1, maxlength: 4000,
      'aria-label': `Message #${this.channel.name}`,
      placeholder: `Message #${this.channel.name}`,
    }));
    // A view can be rebuilt under the user's fingers (a channel list refresh, a
    // reconnect, switching away and back): what they typed survives it.
    const draftKey = `${this.session.hostId}/${this.space.id}/${this.channel.id}`;
    input.value = drafts.get(draftKey) ?? '';
    input.addEventListener('keydown', async (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        // One recovery secret before the first message: what the text stays in the box for.
        try {
          if (!(await this.people.ensureRecovery())) return;
        } catch (err) {
          toast(humanMessage(err), 'error');  // the text stays, to send again
          return;
        }
        input.value = '';
        drafts.delete(draftKey);
        input.style.height = 'auto';
        this.people.presence.stopTyping(this.space.id, this.channel.id);
        void this.outbox.send(text);
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
    return h('div', { class: 'composer', dataset: { ready: 'true' } },
      this.typingLine,
      h('div', { class: 'composer-box' }, input),
      h('p', { class: 'composer-hint' }, icon('lock'), h('span', { text: ' End-to-end encrypted · Enter to send · Shift+Enter for a new line' })));
  }
}

