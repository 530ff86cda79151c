/**
 * What a channel shows, folded from its messages and their annotations (docs/protocol.md
 * section 13.1); the twin of hearth/e2e/conversation.py.
 *
 * Invariants:
 * - A message the host delivered without ``re`` is a row; one with ``re`` is an
 *   annotation of that message and never a row of its own.
 * - The fold depends only on what is held, never on the order it arrived in: history
 *   loads newest first, so edits and reactions usually arrive before their targets and
 *   are held until the target comes (and kept if it never does).
 * - An edit counts only from the target's author; the latest by ``seq`` is shown and
 *   every earlier version is kept. A reaction's state per (target, account, emoji) is
 *   that account's latest ``on`` by ``seq``; an account counts at most 20 emoji on one
 *   message (a further one is ignored while 20 are on).
 * - A deleted or expired message is gone for good, with every annotation of it; an id
 *   once gone is never shown again, whatever arrives later.
 * @module
 */

import { ErrorCode } from '../crypto/errors.js';

export const EMOJI_PER_ACCOUNT = 20;

/**
 * @typedef {import('./content.js').Content} Content
 * @typedef {import('./content.js').TextContent} TextContent
 * @typedef {import('./content.js').EditContent} EditContent
 * @typedef {import('./content.js').ReactContent} ReactContent
 *
 * @typedef {object} Held a delivered message and what it said
 * @property {number} seq
 * @property {string} id
 * @property {string} acct
 * @property {number} ts
 * @property {string | null} re the message it annotates (host-visible), or null
 * @property {number | null} exp when it disappears (ms), or null
 * @property {Content | null} content null while (or because) it cannot be opened
 * @property {{name: string, text: string} | null} [failure] why it cannot be shown
 * @property {boolean} [del] a tombstone: the message was deleted
 *
 * @typedef {{body: string, seq: number, ts: number}} Version
 * @typedef {{emoji: string, accts: string[], mine: boolean}} ReactionCount
 * @typedef {{id: string, acct: string, state: 'held' | 'quoted' | 'deleted', text: string}} ReplyShown
 *   ``held``: the parent as this client holds it now; ``quoted``: the sender's quote
 *
 * @typedef {object} Shown one row
 * @property {string} id
 * @property {number} seq
 * @property {string} acct
 * @property {number} ts
 * @property {number | null} exp
 * @property {string | null} body null when it cannot be shown (see ``failure``)
 * @property {{name: string, text: string} | null} failure
 * @property {boolean} edited
 * @property {Version[]} versions every version, oldest first (the last is ``body``)
 * @property {string[]} mentions of the latest applied version
 * @property {ReplyShown | null} reply
 * @property {ReactionCount[]} reactions in the order each emoji first appeared
 */

/**
 * What the fold holds of a delivered message, once it was opened (or could not be).
 * @param {import('./timeline.js').StoredMessage} m
 * @param {Content | null} content
 * @param {{name: string, text: string} | null} [failure]
 * @returns {Held}
 */
export function held(m, content, failure = null) {
  return { seq: m.seq, id: m.id, acct: m.acct, ts: m.ts, re: m.re ?? null, exp: m.exp ?? null,
    del: Boolean(m.del), content, failure };
}

/** A dropped annotation, for the console and tests: which and why. */
export class Dropped {
  /**
   * @param {string} id
   * @param {string} reason ErrorCode.BAD_CONTENT or ErrorCode.NOT_AUTHOR
   * @param {string} detail
   */
  constructor(id, reason, detail) {
    this.id = id;
    this.reason = reason;
    this.detail = detail;
  }
}

export class Conversation {
  /** @type {Map<string, Held>} messages that are rows, by id */
  messages = new Map();
  /** @type {Map<string, Map<string, Held>>} annotations by target id, then by their id */
  annotations = new Map();
  /** @type {Map<string, string>} annotation id -> target id */
  #targetOf = new Map();
  /** @type {Map<string, Set<string>>} parent id -> ids of the replies quoting it */
  #replies = new Map();
  /** @type {Set<string>} deleted or expired: never shown again */
  gone = new Set();
  /** @type {Dropped[]} */
  dropped = [];

  /** @param {string} me this device's account */
  constructor(me) {
    this.me = me;
  }

  /**
   * Take in one message (again, once it could be opened): a tombstone removes it,
   * anything else is a row or an annotation. The ids of the rows whose look changed
   * (a row that is no longer shown counts).
   * @param {Held} held
   * @returns {Set<string>}
   */
  add(held) {
    if (held.del) return this.remove([held.id]);
    /** @type {Set<string>} */
    const changed = new Set();
    if (this.gone.has(held.id)) return changed;
    const c = held.content;
    if (held.re === null) {
      changed.add(held.id);
      if (c && c.t !== 'text') {
        // An annotation that does not say so to the host: no row, no effect.
        this.#drop(held.id, ErrorCode.BAD_CONTENT, `a ${c.t} of ${JSON.stringify(c.target)} published without re`);
        this.messages.delete(held.id);
        return changed;
      }
      this.messages.set(held.id, held);
      if (c?.t === 'text' && c.reply) {
        const children = this.#replies.get(c.reply.id) ?? new Set();
        children.add(held.id);
        this.#replies.set(c.reply.id, children);
      }
      for (const child of this.#replies.get(held.id) ?? []) changed.add(child);
      return changed;
    }
    if (this.gone.has(held.re) || c === null) return changed; // unopened: nothing to fold yet
    if (c.t === 'text') {
      this.#drop(held.id, ErrorCode.BAD_CONTENT, `a text published with re ${JSON.stringify(held.re)}`);
      return changed;
    }
    if (c.target !== held.re) {
      this.#drop(held.id, ErrorCode.BAD_CONTENT, `target ${JSON.stringify(c.target)} differs from re ${JSON.stringify(held.re)}`);
      return changed;
    }
    const list = this.annotations.get(held.re) ?? new Map();
    list.set(held.id, held);
    this.annotations.set(held.re, list);
    this.#targetOf.set(held.id, held.re);
    return this.#touched(held.re);
  }

  /**
   * Forget messages (deleted, or expired): each with its annotations; an id that is an
   * annotation undoes only itself. The ids of the rows that changed or went.
   * @param {Iterable<string>} ids
   * @returns {Set<string>}
   */
  remove(ids) {
    /** @type {Set<string>} */
    const changed = new Set();
    for (const id of ids) {
      if (this.gone.has(id)) continue;
      this.gone.add(id);
      const target = this.#targetOf.get(id);
      if (target !== undefined) {
        this.annotations.get(target)?.delete(id);
        this.#targetOf.delete(id);
        for (const t of this.#touched(target)) changed.add(t);
        continue;
      }
      for (const a of this.annotations.get(id)?.keys() ?? []) {
        this.gone.add(a);
        this.#targetOf.delete(a);
      }
      this.annotations.delete(id);
      this.messages.delete(id);
      changed.add(id);
      for (const child of this.#replies.get(id) ?? []) changed.add(child);
    }
    return changed;
  }

  /**
   * Drop what expired by ``now`` (ms), whether or not the host's ``del`` arrived.
   * @param {number} now
   * @returns {Set<string>} the rows that changed or went
   */
  expire(now) {
    /** @type {string[]} */
    const due = [];
    for (const held of this.#all()) {
      if (held.exp !== null && held.exp <= now) due.push(held.id);
    }
    return this.remove(due);
  }

  /** @returns {number | null} the earliest ``exp`` of anything held */
  nextExpiry() {
    let next = null;
    for (const held of this.#all()) {
      if (held.exp !== null && (next === null || held.exp < next)) next = held.exp;
    }
    return next;
  }

  /** @returns {Generator<Held>} */
  * #all() {
    yield* this.messages.values();
    for (const list of this.annotations.values()) yield* list.values();
  }

  /**
   * @param {string} id
   * @param {string} reason
   * @param {string} detail
   */
  #drop(id, reason, detail) {
    if (!this.dropped.some((d) => d.id === id)) this.dropped.push(new Dropped(id, reason, detail));
  }

  /**
   * A target's fold changed: it and the replies quoting it.
   * @param {string} target
   * @returns {Set<string>}
   */
  #touched(target) {
    const changed = new Set([target]);
    for (const child of this.#replies.get(target) ?? []) changed.add(child);
    return changed;
  }

  /**
   * Annotations of ``target``, ascending by seq.
   * @param {string} target
   * @returns {Held[]}
   */
  #annotationsOf(target) {
    return [...(this.annotations.get(target)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  /**
   * The versions of ``held`` (a text): the original, then each edit by its author.
   * @param {Held} held
   * @returns {{versions: Version[], mentions: string[]}}
   */
  #versions(held) {
    const c = /** @type {TextContent} */ (held.content);
    const versions = [{ body: c.body, seq: held.seq, ts: held.ts }];
    let mentions = c.mentions ?? [];
    for (const a of this.#annotationsOf(held.id)) {
      const edit = /** @type {Content} */ (a.content);
      if (edit.t !== 'edit') continue;
      if (a.acct !== held.acct) {
        this.#drop(a.id, ErrorCode.NOT_AUTHOR, `an edit by ${a.acct} of a message by ${held.acct}`);
        continue;
      }
      versions.push({ body: edit.body, seq: a.seq, ts: a.ts });
      mentions = edit.mentions ?? [];
    }
    return { versions, mentions };
  }

  /**
   * Reactions on ``target``: each emoji with who has it on.
   * @param {string} target
   * @returns {ReactionCount[]}
   */
  #reactions(target) {
    /** @type {Map<string, Set<string>>} account -> emoji it has on */
    const byAcct = new Map();
    /** @type {string[]} */
    const order = [];
    for (const a of this.#annotationsOf(target)) {
      const r = /** @type {Content} */ (a.content);
      if (r.t !== 'react') continue;
      const on = byAcct.get(a.acct) ?? new Set();
      byAcct.set(a.acct, on);
      if (!r.on) on.delete(r.emoji);
      else if (on.has(r.emoji) || on.size < EMOJI_PER_ACCOUNT) {
        on.add(r.emoji);
        if (!order.includes(r.emoji)) order.push(r.emoji);
      }
    }
    /** @type {ReactionCount[]} */
    const counts = [];
    for (const emoji of order) {
      const accts = [...byAcct].filter(([, on]) => on.has(emoji)).map(([acct]) => acct);
      if (accts.length) counts.push({ emoji, accts, mine: accts.includes(this.me) });
    }
    return counts;
  }

  /**
   * @param {TextContent} c
   * @returns {ReplyShown | null}
   */
  #reply(c) {
    if (!c.reply) return null;
    const { id, acct, quote } = c.reply;
    if (this.gone.has(id)) return { id, acct, state: 'deleted', text: 'Original message was deleted' };
    const parent = this.messages.get(id);
    if (parent?.content?.t === 'text') {
      const { versions } = this.#versions(parent);
      return { id, acct: parent.acct, state: 'held', text: versions[versions.length - 1].body };
    }
    return { id, acct, state: 'quoted', text: quote };
  }

  /**
   * What row ``id`` shows now; null when it is no row (gone, an annotation, not held).
   * @param {string} id
   * @returns {Shown | null}
   */
  shown(id) {
    const held = this.messages.get(id);
    if (!held || this.gone.has(id)) return null;
    const base = { id, seq: held.seq, acct: held.acct, ts: held.ts, exp: held.exp };
    const c = held.content;
    if (c === null || c.t !== 'text') {
      const failure = held.failure ?? null;
      return { ...base, body: null, failure, edited: false, versions: [], mentions: [], reply: null,
        reactions: this.#reactions(id) };
    }
    const { versions, mentions } = this.#versions(held);
    return {
      ...base, body: versions[versions.length - 1].body, failure: null,
      edited: versions.length > 1, versions, mentions, reply: this.#reply(c), reactions: this.#reactions(id),
    };
  }

  /**
   * Whether ``id`` mentions this account (in its latest applied version).
   * @param {string} id
   */
  mentionsMe(id) {
    return this.shown(id)?.mentions.includes(this.me) ?? false;
  }
}
