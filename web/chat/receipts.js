/**
 * Delivery and read markers (docs/protocol.md §13.3, §13.4): what this device tells
 * the host, and what it holds of the others'.
 *
 * Invariants: a channel is marked at most once per ``MARK_EVERY_MS`` (the first mark
 * goes out at once, later ones wait for the window and carry the highest values asked
 * meanwhile); a marker never moves back, here as at the host; ``read`` implies
 * ``delivered``, so a mark never sends a ``delivered`` it does not need.
 * @module
 */

export const MARK_EVERY_MS = 2_000;

/**
 * @typedef {{read: number, delivered: number}} Marker
 * @typedef {{acct: string, read: number, delivered: number}} Mark
 * @typedef {(space: string, chan: string, args: {read?: number, delivered?: number}) => Promise<Marker>} SendMark
 * @typedef {{now: () => number, setTimeout: (f: () => void, ms: number) => any, clearTimeout: (t: any) => void}} Clock
 * @typedef {{state: 'none' | 'sent' | 'delivered' | 'read', readBy: string[], deliveredTo: string[], of: number}} Receipt
 */

/** @type {Clock} */
const REAL_CLOCK = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t),
};

/**
 * Sends ``channel.mark``, throttled per channel.
 */
export class MarkSender {
  /** @type {Map<string, {space: string, chan: string, sent: Marker, want: Marker, at: number, timer: any, busy: boolean}>} */
  #chans = new Map();

  /**
   * @param {SendMark} send
   * @param {{every?: number, clock?: Clock}} [options]
   */
  constructor(send, { every = MARK_EVERY_MS, clock = REAL_CLOCK } = {}) {
    this.send = send;
    this.every = every;
    this.clock = clock;
  }

  /**
   * Ask for the markers to reach at least these values (either may be omitted).
   * @param {string} space
   * @param {string} chan
   * @param {{read?: number, delivered?: number}} marks
   */
  mark(space, chan, { read = 0, delivered = 0 }) {
    const key = `${space}/${chan}`;
    let c = this.#chans.get(key);
    if (!c) {
      c = { space, chan, sent: { read: 0, delivered: 0 }, want: { read: 0, delivered: 0 }, at: -Infinity, timer: null, busy: false };
      this.#chans.set(key, c);
    }
    c.want.read = Math.max(c.want.read, read);
    c.want.delivered = Math.max(c.want.delivered, delivered, c.want.read);
    this.#schedule(c);
  }

  /** @param {NonNullable<ReturnType<MarkSender['get']>>} c */
  #schedule(c) {
    if (c.timer !== null || c.busy || !this.#ahead(c)) return;
    const wait = c.at + this.every - this.clock.now();
    if (wait <= 0) {
      void this.#flush(c);
      return;
    }
    c.timer = this.clock.setTimeout(() => {
      c.timer = null;
      void this.#flush(c);
    }, wait);
  }

  /**
   * What is held for a channel (tests and the caller's own bookkeeping).
   * @param {string} space
   * @param {string} chan
   */
  get(space, chan) {
    return this.#chans.get(`${space}/${chan}`);
  }

  /** @param {NonNullable<ReturnType<MarkSender['get']>>} c */
  #ahead(c) {
    return c.want.read > c.sent.read || c.want.delivered > c.sent.delivered;
  }

  /** @param {NonNullable<ReturnType<MarkSender['get']>>} c */
  async #flush(c) {
    /** @type {{read?: number, delivered?: number}} */
    const args = {};
    if (c.want.read > c.sent.read) args.read = c.want.read;
    // ``read`` raises ``delivered`` with it at the host: send it only when it is higher.
    if (c.want.delivered > Math.max(c.sent.delivered, args.read ?? 0)) args.delivered = c.want.delivered;
    c.at = this.clock.now();
    c.busy = true;
    try {
      const stored = await this.send(c.space, c.chan, args);
      c.sent.read = Math.max(c.sent.read, stored.read);
      c.sent.delivered = Math.max(c.sent.delivered, stored.delivered);
    } catch (e) {
      // Not sent (offline, or the channel went): forget the wish rather than retry a
      // refusal forever; the next message or view marks again.
      console.warn('hearth: could not mark', c.chan, e);
      c.want = { ...c.sent };
    } finally {
      c.busy = false;
    }
    this.#schedule(c);
  }

  /**
   * Send every waiting mark now, window or not: the page is going away, and a read
   * marker held back would be lost with it.
   */
  flush() {
    for (const c of this.#chans.values()) {
      if (c.timer === null) continue;
      this.clock.clearTimeout(c.timer);
      c.timer = null;
      void this.#flush(c);
    }
  }

  /** Cancel every waiting mark (the app stops). */
  stop() {
    for (const c of this.#chans.values()) {
      if (c.timer !== null) this.clock.clearTimeout(c.timer);
      c.timer = null;
    }
  }
}

/**
 * Everyone else's markers, per channel, as the host reported them (``channel.receipts``
 * replaces a channel's set; ``rcpt`` events only raise markers).
 */
export class ReceiptBook {
  /** @type {Map<string, Map<string, Marker>>} by "space/chan", then account */
  #chans = new Map();

  /**
   * The full set of ``channel.receipts``: members not in it no longer share receipts.
   * @param {string} space
   * @param {string} chan
   * @param {Mark[]} marks
   */
  set(space, chan, marks) {
    this.#chans.set(`${space}/${chan}`, new Map(marks.map((m) => [m.acct, { read: m.read, delivered: m.delivered }])));
  }

  /**
   * Markers that moved (an ``rcpt`` event): each only rises.
   * @param {string} space
   * @param {string} chan
   * @param {Mark[]} marks
   */
  merge(space, chan, marks) {
    const key = `${space}/${chan}`;
    const held = this.#chans.get(key) ?? new Map();
    this.#chans.set(key, held);
    for (const m of marks) {
      const was = held.get(m.acct) ?? { read: 0, delivered: 0 };
      const read = Math.max(was.read, m.read);
      held.set(m.acct, { read, delivered: Math.max(was.delivered, m.delivered, read) });
    }
  }

  /**
   * Who has received and read message ``seq`` (everyone but ``me``, and only those it
   * was sent to: a member's marker starts at the channel's end when it joins, which
   * says nothing of what was sent before).
   * @param {string} space
   * @param {string} chan
   * @param {number} seq
   * @param {string} me
   * @param {(acct: string) => boolean} [sentTo] whether ``acct`` was a member when it was sent
   * @returns {Receipt}
   */
  receipt(space, chan, seq, me, sentTo = () => true) {
    const held = this.#chans.get(`${space}/${chan}`);
    if (!held) return { state: 'none', readBy: [], deliveredTo: [], of: 0 };
    const others = [...held].filter(([acct]) => acct !== me && sentTo(acct));
    const readBy = others.filter(([, m]) => m.read >= seq).map(([acct]) => acct);
    const deliveredTo = others.filter(([, m]) => m.delivered >= seq && m.read < seq).map(([acct]) => acct);
    const state = readBy.length ? 'read' : deliveredTo.length ? 'delivered' : others.length ? 'sent' : 'none';
    return { state, readBy, deliveredTo, of: others.length };
  }
}

/**
 * The words under an own message: "Read by 1 of 2", "Delivered", "Delivered to 1 of 2",
 * or "" (nobody shares receipts here, or nothing has arrived yet).
 * @param {Receipt} r
 * @returns {string}
 */
export function receiptText(r) {
  if (r.state === 'read') return `Read by ${r.readBy.length} of ${r.of}`;
  if (r.state === 'delivered') {
    const reached = r.deliveredTo.length + r.readBy.length;
    return reached === r.of ? 'Delivered' : `Delivered to ${reached} of ${r.of}`;
  }
  return '';
}

/**
 * The tooltip naming who read and who received it.
 * @param {Receipt} r
 * @param {(acct: string) => string} nameOf
 * @returns {string}
 */
export function receiptTitle(r, nameOf) {
  const lines = [];
  if (r.readBy.length) lines.push(`Read by ${r.readBy.map(nameOf).join(', ')}`);
  if (r.deliveredTo.length) lines.push(`Delivered to ${r.deliveredTo.map(nameOf).join(', ')}`);
  return lines.join('\n');
}
