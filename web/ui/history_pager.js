/**
 * A channel's history as the reader scrolls: the newest page when the view opens, older
 * pages while the top of the list is near (docs/protocol.md ``history``, keyset by
 * ``seq``), and everything after the newest held message after a reconnect or a gap.
 *
 * Invariants: one older page loads at a time; pages keep loading until the list can
 * scroll or the channel's start is reached (a page of annotations alone shows no rows);
 * loading above keeps the reader's place; the "start of #channel" marker shows exactly
 * when the host said there is nothing older. Rows are the channel view's: each page goes
 * to ``insert`` with the key shares it brought.
 * @module
 */

import { humanMessage } from '../protocol/errors.js';
import { h } from './dom.js';

const PAGE = 50;
/** Older pages load while the reader is this close to the top (px). */
const NEAR_TOP = 200;

/**
 * @typedef {import('../chat/timeline.js').StoredMessage} StoredMessage
 * @typedef {(messages: StoredMessage[], where: 'top' | 'bottom',
 *   shares?: import('../e2e/secure.js').ShareItem[]) => void} Insert
 */

export class HistoryPager {
  loadingOlder = false;

  /**
   * @param {import('../chat/host_session.js').HostSession} session
   * @param {{space: string, chan: string, channelName: string}} where
   * @param {import('../chat/timeline.js').Timeline} timeline
   * @param {HTMLElement} scroller
   * @param {Insert} insert
   */
  constructor(session, where, timeline, scroller, insert) {
    this.session = session;
    this.where = where;
    this.timeline = timeline;
    this.scroller = scroller;
    this.insert = insert;
    this.startMarker = h('li', { class: 'history-start', hidden: true },
      h('strong', { text: `This is the start of #${where.channelName}` }),
      h('span', { text: 'Messages are end-to-end encrypted: only members can read them.' }));
    /** older rows go right after it */
    this.loader = h('li', { class: 'history-loading', text: 'Loading earlier messages…' });
    scroller.addEventListener('scroll', () => void this.maybeLoadOlder());
  }

  /**
   * @param {Record<string, unknown>} args
   * @returns {Promise<Record<string, any>>}
   */
  #page(args) {
    return this.session.call('history', { space: this.where.space, chan: this.where.chan, ...args });
  }

  /** Load the newest page and show it, scrolled to the bottom. */
  async open() {
    try {
      const r = await this.#page({ limit: PAGE });
      const fresh = this.timeline.add(r.messages);
      this.timeline.atStart = !r.more;
      this.insert(fresh, 'bottom', r.keys);
      this.#updateStart();
      this.scroller.scrollTop = this.scroller.scrollHeight;
      // A short first page may not fill the view (a page of annotations shows no rows
      // at all): keep loading until it scrolls or the start is reached.
      await this.maybeLoadOlder();
    } catch (e) {
      this.loader.textContent = humanMessage(e);
      this.loader.classList.add('error');
    }
  }

  #updateStart() {
    this.startMarker.hidden = !this.timeline.atStart;
    this.loader.hidden = this.timeline.atStart;
  }

  /** Load older pages while the top is near and the start is not reached. */
  async maybeLoadOlder() {
    if (this.loadingOlder || this.timeline.atStart || this.scroller.scrollTop > NEAR_TOP) return;
    this.loadingOlder = true;
    try {
      const before = this.timeline.oldest === Infinity ? undefined : this.timeline.oldest;
      const r = await this.#page({ limit: PAGE, ...(before ? { before } : {}) });
      const fresh = this.timeline.add(r.messages);
      this.timeline.atStart = !r.more;
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      this.insert(fresh, 'top', r.keys);
      this.#updateStart();
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom; // keep the reader's place
    } catch (e) {
      this.loader.textContent = humanMessage(e);
    } finally {
      this.loadingOlder = false;
    }
    if (!this.timeline.atStart && this.scroller.scrollTop <= NEAR_TOP) await this.maybeLoadOlder();
  }

  /** Fetch everything after the newest held message (after a reconnect or a gap). */
  async catchUp() {
    try {
      for (;;) {
        const r = await this.#page({ after: this.timeline.newest, limit: 200 });
        this.insert(this.timeline.add(r.messages), 'bottom', r.keys);
        if (!r.more) break;
      }
    } catch (e) {
      console.warn('hearth: could not catch up', e);
    }
  }
}
