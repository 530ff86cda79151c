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
 * the account in their latest applied version (docs/protocol.md §13.1): what this
 * device opened of a channel's unread messages from others, and of the annotations of
 * those, is folded by chat/conversation.js -- the same fold as the highlight on a shown
 * row -- so an edit that adds or drops a mention moves the count.
 * @module
 */

import { Conversation } from './conversation.js';

/** The host stops counting here: 1,000 means "1,000 or more". */
export const UNREAD_CAP = 1000;

/**
 * @typedef {{chan: string, read: number, last: number, unread: number, first_unread: number | null}} HostUnread
 *   one entry of ``space.unread``
 * @typedef {{read: number, last: number, unread: number, firstUnread: number | null,
 *   seen: Map<string, number>, mentions: Map<string, number>, opened: Conversation}} ChannelUnread
 *   ``seen``: unread messages that arrived live (id -> seq); ``mentions``: unread messages
 *   that mention the account (id -> seq); ``opened``: the fold of what was opened here
 * @typedef {{seq: number, id: string, acct: string, re?: string | null, del?: boolean}} Arrived
 * @typedef {{unread: number, mentions: number}} Counts
 */

export class UnreadCounts {
  /** @type {Map<string, Map<string, ChannelUnread>>} by space, then channel */
  #spaces = new Map();

  /** @param {string} me this account */
  constructor(me) {
    this.me = me;
  }

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
        opened: was && c.unread ? was.opened : new Conversation(this.me),
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
   * @param {Arrived} m
   * @returns {boolean}
   */
  message(space, chan, m) {
    const c = this.get(space, chan);
    if (!c) return false;
    c.last = Math.max(c.last, m.seq);
    if (m.acct === this.me || m.re || m.seq <= c.read || c.seen.has(m.id)) return false;
    c.seen.set(m.id, m.seq);
    c.unread += 1;
    if (c.firstUnread === null || m.seq < c.firstUnread) c.firstUnread = m.seq;
    return true;
  }

  /**
   * Whether ``m`` can move the mention count, so is worth opening: an unread message
   * from someone else, or an annotation of one opened here or seen arriving (its target
   * may still be opening: the fold does not depend on order). An edit counts only from
   * its target's author, never this account.
   * @param {string} space
   * @param {string} chan
   * @param {Arrived} m
   */
  wants(space, chan, m) {
    const c = this.get(space, chan);
    if (!c || m.del || m.acct === this.me) return false;
    return m.re ? c.opened.messages.has(m.re) || c.seen.has(m.re) : m.seq > c.read;
  }

  /**
   * A message this device opened (``held.content`` null: it could not): folded in, and
   * the mentions of the rows it touched counted again. Returns whether the channel's
   * mention count changed.
   * @param {string} space
   * @param {string} chan
   * @param {import('./conversation.js').Held} held
   * @returns {boolean}
   */
  opened(space, chan, held) {
    const c = this.get(space, chan);
    if (!c || !this.wants(space, chan, held)) return false;
    let moved = false;
    for (const id of c.opened.add(held)) moved = recount(c, id) || moved;
    return moved;
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
    // A deleted edit gives its message's earlier version back (and its mentions).
    for (const id of c.opened.remove(ids)) recount(c, id);
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
      c.opened = new Conversation(this.me); // nothing unread is left to fold
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
 * Count row ``id`` as a mention or not, by its latest applied version. Whether that
 * changed anything.
 * @param {ChannelUnread} c
 * @param {string} id
 * @returns {boolean}
 */
function recount(c, id) {
  const held = c.opened.messages.get(id);
  const counts = held !== undefined && held.seq > c.read && c.opened.mentionsMe(id);
  if (counts === c.mentions.has(id)) return false;
  if (held && counts) c.mentions.set(id, held.seq);
  else c.mentions.delete(id);
  return true;
}

/**
 * A count as a badge shows it.
 * @param {number} n
 * @returns {string}
 */
export function badgeText(n) {
  return n >= UNREAD_CAP ? '999+' : String(n);
}
