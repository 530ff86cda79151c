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
 * @typedef {{seq: number, id: string, acct: string, dev: string, ts: number, env: string, sess?: string | null}} StoredMessage
 */

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
