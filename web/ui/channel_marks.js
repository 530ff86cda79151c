/**
 * What awareness adds to a shown channel's message list: the "New messages" divider
 * before the first unread message, a highlight on messages that mention this account,
 * and "Delivered" / "Read by k of n" under this account's own messages (the names in
 * the tooltip).
 *
 * Invariant: rows are drawn (and redrawn: edits, reactions, late keys) by the channel
 * view; these marks are laid over them again after every change of the list, so they
 * survive any redraw, and laying them is idempotent (it changes nothing that is already
 * right, so it never feeds itself).
 * @module
 */

import { receiptText, receiptTitle } from '../chat/receipts.js';
import { h } from './dom.js';

/**
 * @typedef {object} MarkSource
 * @property {string} me this account
 * @property {(id: string) => boolean} mentionsMe the message (as now shown) names me
 * @property {(seq: number, ts: number) => import('../chat/receipts.js').Receipt} receipt of an own message (its seq and time)
 * @property {(acct: string) => string} nameOf
 */

export class ChannelMarks {
  /** @type {number | null} the first unread seq when the channel was opened */
  dividerAt = null;
  /** the divider is not before the first unread message yet (older pages are loading) */
  #jumping = false;
  #scheduled = false;

  /**
   * @param {HTMLElement} list the view's message list (``ol.messages``)
   * @param {MarkSource} source
   */
  constructor(list, source) {
    this.list = list;
    this.source = source;
    this.divider = h('li', { class: 'unread-divider', role: 'separator', 'aria-label': 'New messages' },
      h('span', { text: 'New messages' }));
    this.observer = new MutationObserver(() => this.refresh());
    this.observer.observe(list, { childList: true, subtree: true });
  }

  /** Lay the marks again soon (once per turn, however many changes). */
  refresh() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#apply();
    });
  }

  /**
   * Put the divider before message ``seq`` (the first unread) and scroll it into view.
   * When that message is older than what is loaded, the divider waits at the top of the
   * list, whose scrolling there loads the older pages (the view's infinite scroll); it
   * follows them until it sits before ``seq``.
   * @param {number} seq
   */
  showDivider(seq) {
    this.dividerAt = seq;
    this.#jumping = true;
    this.#apply();
  }

  #apply() {
    this.observer.disconnect();
    try {
      this.#placeDivider();
      for (const row of /** @type {NodeListOf<HTMLElement>} */ (this.list.querySelectorAll('.message[data-seq]'))) {
        this.#mark(row);
      }
    } finally {
      this.observer.observe(this.list, { childList: true, subtree: true });
    }
  }

  #placeDivider() {
    if (this.dividerAt === null) return;
    const at = this.dividerAt;
    const rows = /** @type {HTMLElement[]} */ ([...this.list.querySelectorAll('.message[data-seq]')]);
    const first = rows.find((r) => Number(r.dataset.seq) >= at);
    if (!first) {
      this.divider.remove();
      return;
    }
    if (first.previousElementSibling !== this.divider) first.before(this.divider);
    if (!this.#jumping) return;
    const index = rows.indexOf(first);
    const reached = index > 0 || Number(first.dataset.seq) === at
      || Boolean(this.list.querySelector('.history-start:not([hidden])'));
    if (reached) this.#jumping = false;
    this.divider.scrollIntoView({ block: 'start' });
  }

  /** @param {HTMLElement} row */
  #mark(row) {
    const { id, acct, seq, ts } = row.dataset;
    const mentioned = Boolean(id) && acct !== this.source.me && this.source.mentionsMe(/** @type {string} */ (id));
    if (row.classList.contains('mentions-me') !== mentioned) row.classList.toggle('mentions-me', mentioned);
    if (acct !== this.source.me || row.classList.contains('pending')) return;
    // Below the text, not in the header: a continued row hides its header.
    const main = row.querySelector('.message-main');
    if (!main) return;
    const r = this.source.receipt(Number(seq), Number(ts));
    const text = receiptText(r);
    let label = /** @type {HTMLElement | null} */ (main.querySelector(':scope > .receipt'));
    if (!text) {
      label?.remove();
      return;
    }
    if (!label) {
      label = h('span', { class: 'receipt' });
      main.append(label);
    }
    const title = receiptTitle(r, this.source.nameOf);
    if (label.textContent !== text) label.textContent = text;
    if (label.title !== title) label.title = title;
    if (label.dataset.state !== r.state) label.dataset.state = r.state;
  }

  destroy() {
    this.observer.disconnect();
    this.divider.remove();
  }
}
