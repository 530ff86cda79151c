/**
 * Unread and mention counts per channel and per space (docs/protocol.md §13.3, §13.4).
 *
 * The host's ``space.unread`` is the base; live events keep it current: a ``msg`` from
 * someone else that is not an annotation and lies beyond the read marker adds one, a
 * ``del`` takes away the ones this store saw arrive, and the account's own ``read``
 * marker moving takes away what it covers. When an event leaves the count unknown (a
 * delete of a message the host counted but this store never saw, a partial read) the
 * caller is told to ask ``space.unread`` again. A space's counts are the sums of its
 * channels'. Mentions are the unread messages this device decrypted and found naming
 * the account.
 * @module
 */

/** The host stops counting here: 1,000 means "1,000 or more". */
export const UNREAD_CAP = 1000;

/**
 * @typedef {{chan: string, read: number, last: number, unread: number, first_unread: number | null}} HostUnread
 *   one entry of ``space.unread``
 * @typedef {{read: number, last: number, unread: number, firstUnread: number | null,
 *   seen: Map<string, number>, mentions: Map<string, number>}} ChannelUnread
 *   ``seen``: unread messages that arrived live (id -> seq); ``mentions``: unread messages
 *   that mention the account (id -> seq)
 * @typedef {{unread: number, mentions: number}} Counts
 */

export class UnreadCounts {
  /** @type {Map<string, Map<string, ChannelUnread>>} by space, then channel */
  #spaces = new Map();

  /**
   * Take a space's counts from ``space.unread``; mentions already found and still unread
   * are kept.
   * @param {string} space
   * @param {HostUnread[]} channels
   */
  load(space, channels) {
    const before = this.#spaces.get(space);
    const now = new Map();
    for (const c of channels) {
      const was = before?.get(c.chan);
      const keep = (/** @type {Map<string, number> | undefined} */ m) =>
        new Map([...(m ?? [])].filter(([, seq]) => seq > c.read && seq <= c.last));
      now.set(c.chan, {
        read: c.read, last: c.last, unread: c.unread, firstUnread: c.first_unread,
        seen: keep(was?.seen), mentions: keep(was?.mentions),
      });
    }
    this.#spaces.set(space, now);
  }

  /**
   * Whether the host's counts of ``space`` are held.
   * @param {string} space
   */
  has(space) {
    return this.#spaces.has(space);
  }

  /** @param {string} space */
  forget(space) {
    this.#spaces.delete(space);
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @returns {ChannelUnread | undefined}
   */
  get(space, chan) {
    return this.#spaces.get(space)?.get(chan);
  }

  /**
   * A live message arrived. Returns whether it counts as unread.
   * @param {string} space
   * @param {string} chan
   * @param {{seq: number, id: string, acct: string, re?: string | null}} m
   * @param {string} me this account
   * @returns {boolean}
   */
  message(space, chan, m, me) {
    const c = this.get(space, chan);
    if (!c) return false;
    c.last = Math.max(c.last, m.seq);
    if (m.acct === me || m.re || m.seq <= c.read || c.seen.has(m.id)) return false;
    c.seen.set(m.id, m.seq);
    c.unread += 1;
    if (c.firstUnread === null || m.seq < c.firstUnread) c.firstUnread = m.seq;
    return true;
  }

  /**
   * A decrypted unread message names this account.
   * @param {string} space
   * @param {string} chan
   * @param {string} id
   * @param {number} seq
   */
  mentioned(space, chan, id, seq) {
    const c = this.get(space, chan);
    if (c && seq > c.read) c.mentions.set(id, seq);
  }

  /**
   * Messages were deleted (a ``del`` event). Returns true when the count can no longer
   * be known here (ask ``space.unread`` again).
   * @param {string} space
   * @param {string} chan
   * @param {string[]} ids
   * @returns {boolean}
   */
  deleted(space, chan, ids) {
    const c = this.get(space, chan);
    if (!c) return false;
    let unknown = false;
    for (const id of ids) {
      c.mentions.delete(id);
      if (c.seen.delete(id)) c.unread = Math.max(0, c.unread - 1);
      // Counted by the host before this page saw it arrive: which one is unknown here.
      else if (c.unread > c.seen.size) unknown = true;
    }
    if (!unknown) c.firstUnread = c.unread ? c.firstUnread : null;
    return unknown;
  }

  /**
   * This account's read marker moved (this device's mark, or another device's ``rcpt``).
   * Returns true when the count can no longer be known here.
   * @param {string} space
   * @param {string} chan
   * @param {number} seq
   * @returns {boolean}
   */
  read(space, chan, seq) {
    const c = this.get(space, chan);
    if (!c || seq <= c.read) return false;
    c.read = seq;
    for (const [id, s] of c.mentions) if (s <= seq) c.mentions.delete(id);
    if (seq >= c.last) {
      c.seen.clear();
      c.unread = 0;
      c.firstUnread = null;
      return false;
    }
    if (c.firstUnread === null || c.firstUnread > seq) return false;
    // Partly read: exact only if every unread message arrived while this store watched.
    const tracked = c.unread === c.seen.size;
    for (const [id, s] of c.seen) {
      if (s > seq) continue;
      c.seen.delete(id);
      c.unread = Math.max(0, c.unread - 1);
    }
    if (!tracked) return true;
    c.firstUnread = c.seen.size ? Math.min(...c.seen.values()) : null;
    return false;
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @returns {Counts}
   */
  channel(space, chan) {
    const c = this.get(space, chan);
    return { unread: c?.unread ?? 0, mentions: c?.mentions.size ?? 0 };
  }

  /**
   * The sum of a space's channels.
   * @param {string} space
   * @returns {Counts}
   */
  space(space) {
    let unread = 0;
    let mentions = 0;
    for (const c of this.#spaces.get(space)?.values() ?? []) {
      unread += c.unread;
      mentions += c.mentions.size;
    }
    return { unread, mentions };
  }
}

/**
 * A count as a badge shows it.
 * @param {number} n
 * @returns {string}
 */
export function badgeText(n) {
  return n >= UNREAD_CAP ? '999+' : String(n);
}
