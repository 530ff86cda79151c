/**
 * What this device knows about what is new, for every host at once: unread and mention
 * counts (chat/unread.js), the markers it sends and the receipts it holds
 * (chat/receipts.js), and notifications (chat/notify.js). Fed by each HostSession's
 * events (docs/protocol.md §13.2–§13.4).
 *
 * Invariants: a live message is marked ``delivered`` where it arrives and ``read`` only
 * when its channel is shown in a visible tab; counts are reloaded from ``space.unread``
 * whenever a space is (re)followed and whenever an event leaves them unknown; the text
 * of a message is looked at only after this device decrypted it; an annotation is
 * opened only when it may move a mention count (chat/unread.js ``wants``). Events:
 * ``change`` (counts moved: redraw badges), ``receipts`` {hostId, space, chan} (redraw
 * labels).
 * @module
 */

import { parse } from './content.js';
import { held } from './conversation.js';
import { fromEvent } from './timeline.js';
import { MarkSender, ReceiptBook } from './receipts.js';
import { UnreadCounts } from './unread.js';

/** Unread messages looked at, per channel, to find the mentions among them. */
const SCAN_LIMIT = 100;

/**
 * @typedef {import('./host_session.js').HostSession} HostSession
 * @typedef {import('../e2e/secure.js').SecureClient} SecureClient
 * @typedef {import('./timeline.js').StoredMessage} StoredMessage
 * @typedef {import('./conversation.js').Held} Held
 * @typedef {{mentionsMe: boolean, repliesToMe: boolean, text: string | null}} Opened
 *   what a message that just arrived says about this account
 *
 * @typedef {object} Surroundings what Awareness asks of the app
 * @property {string} me this account
 * @property {(hostId: string, space: string, chan: string) => boolean} showing the channel
 *   is shown in a visible tab
 * @property {(hostId: string, space: string, chan: string, m: StoredMessage, opened: Opened) => void} arrived
 *   a message from someone else arrived live (for notifications)
 */

/**
 * @typedef {object} Watched one host
 * @property {HostSession} session
 * @property {SecureClient} secure
 * @property {UnreadCounts} unread
 * @property {ReceiptBook} receipts
 * @property {MarkSender} marks
 * @property {Map<string, number>} scanned "space/chan" -> the last seq looked at for mentions
 */

export class Awareness extends EventTarget {
  /** @type {Map<string, Watched>} by host id */ hosts = new Map();

  /** @param {Surroundings} around */
  constructor(around) {
    super();
    this.around = around;
  }

  /**
   * Follow one host's events.
   * @param {HostSession} session
   * @param {SecureClient} secure
   */
  watch(session, secure) {
    const w = {
      session, secure, unread: new UnreadCounts(this.around.me), receipts: new ReceiptBook(), scanned: new Map(),
      marks: new MarkSender((space, chan, args) => this.#mark(w, space, chan, args)),
    };
    this.hosts.set(session.hostId, w);
    const detail = (/** @type {Event} */ e) => /** @type {CustomEvent} */ (e).detail;
    session.addEventListener('followed', (e) => void this.reload(session.hostId, detail(e).space));
    session.addEventListener('message', (e) => void this.#onMessage(w, detail(e).body));
    session.addEventListener('del', (e) => this.#onDelete(w, detail(e).body));
    session.addEventListener('rcpt', (e) => this.#onReceipts(w, detail(e).body));
    session.addEventListener('removed', (e) => {
      w.unread.forget(detail(e).space);
      this.#changed();
    });
  }

  /** Send every waiting mark now (the page is going away). */
  flush() {
    for (const w of this.hosts.values()) w.marks.flush();
  }

  /** Stop every waiting mark. */
  stop() {
    for (const w of this.hosts.values()) w.marks.stop();
  }

  /**
   * @param {string} hostId
   * @returns {Watched | undefined}
   */
  host(hostId) {
    return this.hosts.get(hostId);
  }

  /**
   * Counts of a channel, or of a whole space when ``chan`` is omitted.
   * @param {string} hostId
   * @param {string} space
   * @param {string} [chan]
   */
  counts(hostId, space, chan) {
    const u = this.hosts.get(hostId)?.unread;
    if (!u) return { unread: 0, mentions: 0 };
    return chan === undefined ? u.space(space) : u.channel(space, chan);
  }

  /**
   * Whether the host's counts of a space have arrived.
   * @param {string} hostId
   * @param {string} space
   */
  counted(hostId, space) {
    return this.hosts.get(hostId)?.unread.has(space) ?? false;
  }

  /**
   * Who received and read this account's message ``seq``.
   * @param {string} hostId
   * @param {string} space
   * @param {string} chan
   * @param {number} seq
   * @param {(acct: string) => boolean} [sentTo] whether ``acct`` was a member when it was sent
   * @returns {import('./receipts.js').Receipt}
   */
  receipt(hostId, space, chan, seq, sentTo) {
    const w = this.hosts.get(hostId);
    return w ? w.receipts.receipt(space, chan, seq, this.around.me, sentTo) : { state: 'none', readBy: [], deliveredTo: [], of: 0 };
  }

  /**
   * Ask the host for a space's unread counts, then look at the unread messages for
   * mentions of this account.
   * @param {string} hostId
   * @param {string} space
   */
  async reload(hostId, space) {
    const w = this.hosts.get(hostId);
    if (!w) return;
    try {
      const r = await w.session.call('space.unread', { space });
      w.unread.load(space, r.channels);
      this.#changed();
      for (const c of r.channels) {
        // The shown channel is read, whatever the host counted before its mark arrived.
        if (c.unread > 0 && this.around.showing(hostId, space, c.chan)) this.#read(w, space, c.chan, c.last);
      }
      for (const c of r.channels) {
        if (w.unread.get(space, c.chan)?.unread) await this.#scan(w, space, c.chan, c.read);
      }
    } catch (e) {
      console.warn('hearth: unread counts', e);
    }
  }

  /**
   * Find mentions among a channel's unread messages (those not looked at yet).
   * @param {Watched} w
   * @param {string} space
   * @param {string} chan
   * @param {number} read
   */
  async #scan(w, space, chan, read) {
    const key = `${space}/${chan}`;
    const after = Math.max(read, w.scanned.get(key) ?? 0);
    const r = await w.session.call('history', { space, chan, after, limit: SCAN_LIMIT });
    /** @type {StoredMessage[]} */
    const page = r.messages;
    if (!page.length) return;
    if (r.keys?.length) await w.secure.acceptShares(space, chan, r.keys).catch(() => undefined);
    // Ascending: a message is folded before the edits and reactions of it.
    for (const m of page) {
      if (w.unread.wants(space, chan, m)) w.unread.opened(space, chan, await this.#open(w, space, chan, m));
    }
    const newest = page[page.length - 1].seq;
    w.scanned.set(key, newest);
    w.marks.mark(space, chan, { delivered: newest });
    this.#changed();
  }

  /**
   * Decrypt and parse a message, for the fold (content null: it cannot be opened).
   * @param {Watched} w
   * @param {string} space
   * @param {string} chan
   * @param {StoredMessage} m
   * @returns {Promise<Held>}
   */
  async #open(w, space, chan, m) {
    try {
      const shown = await w.secure.show(space, chan, m);
      return held(m, shown.ok ? parse(shown.text) : null);
    } catch {
      return held(m, null); // unreadable or bad content: it names nobody
    }
  }

  /**
   * What a message that just arrived says about this account (for notifications).
   * @param {Held} h
   * @returns {Opened}
   */
  #about(h) {
    const c = h.content?.t === 'text' ? h.content : null;
    return {
      mentionsMe: c?.mentions?.includes(this.around.me) ?? false,
      repliesToMe: c?.reply?.acct === this.around.me,
      text: c?.body ?? null,
    };
  }

  /**
   * @param {Watched} w
   * @param {Record<string, any>} body a verified ``msg`` event
   */
  async #onMessage(w, body) {
    const { space, chan } = body;
    const m = fromEvent(body);
    const hostId = w.session.hostId;
    w.unread.message(space, chan, m);
    if (this.around.showing(hostId, space, chan)) this.#read(w, space, chan, m.seq);
    else w.marks.mark(space, chan, { delivered: m.seq });
    this.#changed();
    if (m.acct === this.around.me) return;
    // An annotation is opened only if it may move the count (an edit of an unread message).
    if (m.re && !w.unread.wants(space, chan, m)) return;
    const opened = await this.#open(w, space, chan, m);
    if (w.unread.opened(space, chan, opened)) this.#changed();
    if (!m.re) this.around.arrived(hostId, space, chan, m, this.#about(opened));
  }

  /**
   * @param {Watched} w
   * @param {Record<string, any>} body a verified ``del`` event
   */
  #onDelete(w, body) {
    const ids = Array.isArray(body.info?.ids) ? body.info.ids : [];
    if (w.unread.deleted(body.space, body.chan, ids)) void this.reload(w.session.hostId, body.space);
    this.#changed();
  }

  /**
   * @param {Watched} w
   * @param {Record<string, any>} body a verified ``rcpt`` event
   */
  #onReceipts(w, body) {
    const marks = Array.isArray(body.info?.marks) ? body.info.marks : [];
    w.receipts.merge(body.space, body.chan, marks);
    const mine = marks.find((/** @type {any} */ m) => m.acct === this.around.me);
    // Another device of this account read here: the counts follow it.
    if (mine && w.unread.read(body.space, body.chan, mine.read)) void this.reload(w.session.hostId, body.space);
    this.#changed();
    this.#emit('receipts', { hostId: w.session.hostId, space: body.space, chan: body.chan });
  }

  /**
   * The channel is shown in a visible tab, up to ``newest``: mark it read and clear it.
   * Returns the first unread seq before it was cleared (where the divider goes), or null.
   * @param {string} hostId
   * @param {string} space
   * @param {string} chan
   * @param {number} newest the newest seq the view holds
   * @returns {number | null}
   */
  viewing(hostId, space, chan, newest) {
    const w = this.hosts.get(hostId);
    if (!w) return null;
    const entry = w.unread.get(space, chan);
    const first = entry?.unread ? entry.firstUnread : null;
    const upTo = Math.max(newest, entry?.last ?? 0);
    if (upTo > 0) this.#read(w, space, chan, upTo);
    return first;
  }

  /**
   * Every member's markers in a channel, from the host (when a view opens).
   * @param {string} hostId
   * @param {string} space
   * @param {string} chan
   * @returns {Promise<boolean>} whether the host answered
   */
  async loadReceipts(hostId, space, chan) {
    const w = this.hosts.get(hostId);
    if (!w) return false;
    try {
      const r = await w.session.call('channel.receipts', { space, chan });
      w.receipts.set(space, chan, r.marks);
      this.#emit('receipts', { hostId, space, chan });
      return true;
    } catch (e) {
      console.warn('hearth: receipts', e);
      return false;
    }
  }

  /**
   * @param {Watched} w
   * @param {string} space
   * @param {string} chan
   * @param {number} seq
   */
  #read(w, space, chan, seq) {
    w.marks.mark(space, chan, { read: seq });
    if (w.unread.read(space, chan, seq)) void this.reload(w.session.hostId, space);
    this.#changed();
  }

  /**
   * @param {Watched} w
   * @param {string} space
   * @param {string} chan
   * @param {{read?: number, delivered?: number}} args
   */
  async #mark(w, space, chan, args) {
    const r = await w.session.call('channel.mark', { space, chan, ...args });
    return { read: r.read, delivered: r.delivered };
  }

  #changed() {
    this.#emit('change', {});
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
