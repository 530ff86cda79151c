/**
 * The messages of one channel that this view holds, keyed by sequence number.
 *
 * History pages by sequence number (docs/protocol.md section 9), so merging is exact:
 * a page adds only the sequence numbers not yet held (no duplicates), and a live event
 * whose number is beyond ``newest + 1`` reveals a gap that the caller fills with
 * ``history after: newest`` before showing it (no gaps).
 * @module
 */

/**
 * A message as the host stores it: ``re`` the message it annotates (section 13.2), ``exp``
 * when it disappears (ms), ``del`` a tombstone (its ``env`` is ``""``).
 * @typedef {{seq: number, id: string, acct: string, dev: string, ts: number, env: string,
 *   sess?: string | null, re?: string | null, exp?: number | null, del?: boolean}} StoredMessage
 */

/**
 * The stored form of a live ``msg`` event (whose ``re`` is ``""`` and ``exp`` ``0`` for none).
 * @param {Record<string, any>} body a verified event
 * @returns {StoredMessage}
 */
export function fromEvent(body) {
  return { seq: body.seq, id: body.id, acct: body.acct, dev: body.dev, ts: body.ts, env: body.env,
    sess: body.sess ?? null, re: body.re || null, exp: body.exp || null, del: false };
}

export class Timeline {
  /** @type {Map<number, StoredMessage>} */ bySeq = new Map();
  /** @type {Set<string>} */ ids = new Set();
  oldest = Infinity;
  newest = 0;
  /** The oldest message is held: there is nothing further back. */
  atStart = false;

  /**
   * Add messages (a history page or caught-up events); returns those not held before,
   * ascending by sequence number.
   * @param {StoredMessage[]} messages
   * @returns {StoredMessage[]}
   */
  add(messages) {
    const fresh = messages.filter((m) => !this.bySeq.has(m.seq)).sort((a, b) => a.seq - b.seq);
    for (const m of fresh) {
      this.bySeq.set(m.seq, m);
      this.ids.add(m.id);
      this.oldest = Math.min(this.oldest, m.seq);
      this.newest = Math.max(this.newest, m.seq);
    }
    return fresh;
  }

  /**
   * Turn held messages into tombstones (a ``del`` event): they keep their sequence
   * numbers, so paging and gap detection stay exact.
   * @param {Iterable<string>} ids
   */
  erase(ids) {
    const wanted = new Set(ids);
    for (const m of this.bySeq.values()) {
      if (wanted.has(m.id)) Object.assign(m, { env: '', sess: null, del: true });
    }
  }

  /**
   * Where a live message fits: ``dup`` (held), ``next`` (newest + 1: show it) or
   * ``gap`` (messages are missing before it: catch up first).
   * @param {number} seq
   * @returns {'dup' | 'next' | 'gap'}
   */
  place(seq) {
    if (this.bySeq.has(seq) || seq <= this.newest && seq >= this.oldest) return 'dup';
    return seq === this.newest + 1 || this.newest === 0 ? 'next' : 'gap';
  }
}
