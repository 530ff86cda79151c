/**
 * Presence (online / away / offline, last seen) and typing for one host: ephemeral,
 * device-signed updates the relay passes between the followers of a space and never
 * stores (docs/protocol.md section 12).
 *
 * Sending: ``online`` (or ``away`` while the tab is hidden) on every confirmed
 * subscription and every PRESENCE_HEARTBEAT_MS; the new state at once when the tab is
 * hidden or shown; ``offline`` on a clean leave (page closed, tab given up) -- signed
 * ahead of time, because a closing page cannot wait for WebCrypto.
 * ``typing`` at most every TYPING_EVERY_MS while the composer has text, ``stopped``
 * when it is sent or emptied.
 *
 * Receiving: an update counts only if connection.js verified its signature, route and
 * clock and this space's verified roster (web/e2e/roster.js, through SecureClient)
 * lists its device as certified by its account, unrevoked, and the account a member
 * (a device the roster does not know yet is looked at once more, with a fresh roster).
 * Presence from a device not heard from before (someone just came online or joined)
 * is answered with this device's own, at most every REPLY_EVERY_MS per space, so the
 * newcomer need not wait for the next heartbeat to see who is here.
 * A member with no update for PRESENCE_OFFLINE_AFTER_MS shows offline; a typing
 * indicator lasts TYPING_SHOWN_MS unless renewed.
 *
 * Events: ``change`` (what PresenceBook.snapshot shows changed).
 * @module
 */

import { checkSender, EPHEMERAL_MAX_AGE_MS, PRESENCE_HEARTBEAT_MS, PRESENCE_OFFLINE_AFTER_MS,
  signEphemeral, TYPING_EVERY_MS, TYPING_SHOWN_MS } from '../protocol/ephemeral.js';

/** A device the roster did not know forces a fresh roster at most this often. */
const ROSTER_RETRY_MS = 2_000;
const TICK_MS = 1_000;
/** ``offline`` is signed ahead this often, so that a closing page can send it at once. */
const FAREWELL_EVERY_MS = 10_000;
const REPLY_EVERY_MS = 5_000;

/**
 * @typedef {'online' | 'away' | 'offline'} PresenceState
 * @typedef {{state: PresenceState, lastSeen: number | null}} Seen
 */

/**
 * What this device has heard, and what it means at a given moment (no I/O, no timers).
 * Invariant: every entry came from a verified update; states are derived from the
 * entries and ``now`` only, so a missed ``offline`` still ends in offline.
 */
export class PresenceBook {
  /** @type {Map<string, Map<string, {state: PresenceState, at: number}>>} space -> "acct dev" -> last update */
  #presence = new Map();
  /** @type {Map<string, Map<string, number>>} "space/chan" -> acct -> shown until */
  #typing = new Map();

  /**
   * @param {import('../protocol/ephemeral.js').EphemeralBody} body a verified update
   * @param {number} now
   * @returns {boolean} whether it is presence from a device not heard from before
   */
  note(body, now) {
    if (body.k === 'presence') {
      let devices = this.#presence.get(body.space);
      if (!devices) this.#presence.set(body.space, devices = new Map());
      const key = `${body.acct} ${body.dev}`;
      const fresh = !devices.has(key);
      devices.set(key, { state: /** @type {PresenceState} */ (body.state), at: now });
      if (body.state === 'offline') this.#stopTyping(body.space, body.acct);
      return fresh;
    } else {
      const key = `${body.space}/${body.chan}`;
      let typers = this.#typing.get(key);
      if (!typers) this.#typing.set(key, typers = new Map());
      if (body.state === 'typing') typers.set(body.acct, now + TYPING_SHOWN_MS);
      else typers.delete(body.acct);
    }
    return false;
  }

  /**
   * @param {string} space
   * @param {string} acct
   */
  #stopTyping(space, acct) {
    for (const [key, typers] of this.#typing) {
      if (key.startsWith(`${space}/`)) typers.delete(acct);
    }
  }

  /**
   * An account's presence in a space: online if any of its devices is, else away if
   * any is, else offline; ``lastSeen`` is the latest update from any of them.
   * @param {string} space
   * @param {string} acct
   * @param {number} now
   * @returns {Seen}
   */
  seen(space, acct, now) {
    /** @type {Seen} */
    const out = { state: 'offline', lastSeen: null };
    for (const [who, { state, at }] of this.#presence.get(space) ?? []) {
      if (!who.startsWith(`${acct} `)) continue;
      out.lastSeen = Math.max(out.lastSeen ?? 0, at);
      const current = now - at > PRESENCE_OFFLINE_AFTER_MS ? 'offline' : state;
      if (current === 'online' || (current === 'away' && out.state === 'offline')) out.state = current;
    }
    return out;
  }

  /**
   * Accounts typing in a channel now, in the order they started.
   * @param {string} space
   * @param {string} chan
   * @param {number} now
   * @returns {string[]}
   */
  typers(space, chan, now) {
    return [...(this.#typing.get(`${space}/${chan}`) ?? [])]
      .filter(([, until]) => until > now).map(([acct]) => acct);
  }

  /** @param {string} space forget it (this device left it) */
  forget(space) {
    this.#presence.delete(space);
    for (const key of [...this.#typing.keys()]) if (key.startsWith(`${space}/`)) this.#typing.delete(key);
  }

  /**
   * Everything shown: each account's presence per space, and who types where.
   * @param {number} now
   * @returns {{seen: Array<[string, string, Seen]>, typing: Array<[string, string[]]>}}
   */
  view(now) {
    /** @type {Array<[string, string, Seen]>} */
    const seen = [];
    for (const [space, devices] of this.#presence) {
      for (const acct of new Set([...devices.keys()].map((k) => k.split(' ')[0]))) {
        seen.push([space, acct, this.seen(space, acct, now)]);
      }
    }
    /** @type {Array<[string, string[]]>} */
    const typing = [];
    for (const [key, typers] of this.#typing) {
      typing.push([key, [...typers].filter(([, until]) => until > now).map(([acct]) => acct)]);
    }
    return { seen, typing };
  }

  /**
   * Everything shown, as one string: equal snapshots look the same on screen.
   * @param {number} now
   * @returns {string}
   */
  snapshot(now) {
    const { seen, typing } = this.view(now);
    return [
      ...seen.map(([space, acct, { state, lastSeen }]) => `${space} ${acct} ${state} ${lastSeen}`),
      ...typing.flatMap(([key, accts]) => accts.map((acct) => `${key} ${acct} typing`)),
    ].join('\n');
  }
}

export class Presence extends EventTarget {
  book = new PresenceBook();
  /** @type {Set<string>} spaces this device follows (where its presence goes) */
  followed = new Set();
  /** @type {Map<string, number>} "space/chan" -> when ``typing`` was last sent */
  #typingSent = new Map();
  /** @type {Map<string, {frame: Record<string, any> & {t: string}, ts: number}>} signed ``offline``, by space */
  #farewells = new Map();
  /** @type {Map<string, number>} space -> when presence was last sent in reply */
  #replied = new Map();
  /** set by ``leave``: this page said offline and sends nothing more */
  #gone = false;
  #shown = '';
  /** @type {ReturnType<typeof setInterval>[]} */ #timers = [];

  /**
   * @param {import('./host_session.js').HostSession} session
   * @param {{roster: (space: string, options?: {fresh?: boolean}) => Promise<import('../e2e/roster.js').Roster>}} secure
   * @param {{hidden?: () => boolean}} [options]
   */
  constructor(session, secure, { hidden = () => document.visibilityState === 'hidden' } = {}) {
    super();
    this.session = session;
    this.secure = secure;
    this.hidden = hidden;
    session.addEventListener('followed', (e) => {
      const { space } = /** @type {CustomEvent} */ (e).detail;
      this.followed.add(space);
      void this.#send(space, '*', 'presence', this.state());
      void this.#prepareFarewells();
    });
    session.addEventListener('removed', (e) => {
      const { space } = /** @type {CustomEvent} */ (e).detail;
      this.followed.delete(space);
      this.book.forget(space);
      this.#changed();
    });
    session.conn.addEventListener('eph', (e) => {
      const { host, body } = /** @type {CustomEvent} */ (e).detail;
      if (host === session.hostId) void this.#receive(body);
    });
    this.#timers.push(setInterval(() => this.announce(), PRESENCE_HEARTBEAT_MS));
    this.#timers.push(setInterval(() => this.#changed(), TICK_MS));
    this.#timers.push(setInterval(() => void this.#prepareFarewells(), FAREWELL_EVERY_MS));
  }

  /** Sign ``offline`` for every followed space now, for ``leave`` to send at once. */
  async #prepareFarewells() {
    const { conn, hostId } = this.session;
    for (const space of this.followed) {
      const ts = Date.now();
      const frame = await signEphemeral(conn.credentials.device, conn.account,
        { host: hostId, space, chan: '*', k: 'presence', state: 'offline', ts });
      this.#farewells.set(space, { frame, ts });
    }
    for (const space of [...this.#farewells.keys()]) if (!this.followed.has(space)) this.#farewells.delete(space);
  }

  /**
   * The page is going away: say ``offline`` now, synchronously, where still fresh, and
   * nothing after it (the ``visibilitychange`` of a closing tab would otherwise send a
   * late ``away`` that arrives after it).
   */
  leave() {
    this.#gone = true;
    const now = Date.now();
    for (const [space, { frame, ts }] of this.#farewells) {
      if (this.followed.has(space) && now - ts < EPHEMERAL_MAX_AGE_MS / 2) this.session.conn.sendNow(frame);
    }
  }

  /** @returns {'online' | 'away'} this device's own state */
  state() {
    return this.hidden() ? 'away' : 'online';
  }

  /**
   * Tell every followed space this device's state (``offline`` on a clean leave).
   * @param {PresenceState} [state]
   */
  announce(state = this.state()) {
    for (const space of this.followed) void this.#send(space, '*', 'presence', state);
  }

  /**
   * The composer has text: say so, at most every TYPING_EVERY_MS.
   * @param {string} space
   * @param {string} chan
   */
  typing(space, chan) {
    const key = `${space}/${chan}`;
    const now = Date.now();
    if (now - (this.#typingSent.get(key) ?? -Infinity) < TYPING_EVERY_MS) return;
    this.#typingSent.set(key, now);
    void this.#send(space, chan, 'typing', 'typing');
  }

  /**
   * The message was sent or the text removed: end the indicator now, if one is shown.
   * @param {string} space
   * @param {string} chan
   */
  stopTyping(space, chan) {
    const key = `${space}/${chan}`;
    const sent = this.#typingSent.get(key);
    this.#typingSent.delete(key);
    if (sent !== undefined && Date.now() - sent < TYPING_SHOWN_MS) void this.#send(space, chan, 'typing', 'stopped');
  }

  /**
   * @param {string} space
   * @param {string} acct
   * @returns {Seen}
   */
  seen(space, acct) {
    if (acct === this.session.conn.account) return { state: this.state(), lastSeen: Date.now() };
    return this.book.seen(space, acct, Date.now());
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @returns {string[]} accounts typing there, other than this one
   */
  typers(space, chan) {
    return this.book.typers(space, chan, Date.now()).filter((a) => a !== this.session.conn.account);
  }

  /**
   * What this device shows, as follower tabs render it (tabs/follower.js): as ``seen``
   * and ``typers`` answer now, with this device's own state as ``self``.
   * @returns {{self: PresenceState, seen: Array<[string, string, Seen]>, typing: Array<[string, string[]]>}}
   */
  view() {
    const { seen, typing } = this.book.view(Date.now());
    return {
      self: this.state(),
      seen: seen.map(([space, acct]) => [space, acct, this.seen(space, acct)]),
      typing: typing.map(([key]) => {
        const [space, chan] = key.split('/');
        return [key, this.typers(space, chan)];
      }),
    };
  }

  /** The page came back (from the back/forward cache): present again. */
  back() {
    this.#gone = false;
    this.announce();
  }

  /** Stop the timers (the tab gave up the device). */
  stop() {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @param {'presence' | 'typing'} k
   * @param {string} state
   */
  async #send(space, chan, k, state) {
    if (this.#gone) return;
    try {
      await this.session.conn.sendEphemeral({ host: this.session.hostId, space, chan, k, state });
    } catch (e) {
      console.warn('hearth: could not send presence or typing', e);
    }
  }

  /**
   * @param {import('../protocol/ephemeral.js').EphemeralBody} body
   * @param {boolean} [again] this is the second look at an unknown device
   */
  async #receive(body, again = false) {
    try {
      let roster = await this.secure.roster(body.space);
      if (!roster.devices.has(body.dev)) {
        const age = Date.now() - roster.fetchedAt;
        if (age < ROSTER_RETRY_MS && !again) {
          // Fetched a moment ago, perhaps just before this device joined: look again soon.
          setTimeout(() => void this.#receive(body, true), ROSTER_RETRY_MS - age);
          return;
        }
        roster = await this.secure.roster(body.space, { fresh: true });
      }
      checkSender(body, roster);
    } catch (e) {
      console.warn('hearth: dropped a presence or typing update', e);
      return;
    }
    const newcomer = this.book.note(body, Date.now());
    if (newcomer && body.state !== 'offline' && this.followed.has(body.space)
        && Date.now() - (this.#replied.get(body.space) ?? -Infinity) >= REPLY_EVERY_MS) {
      this.#replied.set(body.space, Date.now());
      void this.#send(body.space, '*', 'presence', this.state());
    }
    this.#changed();
  }

  #changed() {
    const now = this.book.snapshot(Date.now());
    if (now === this.#shown) return;
    this.#shown = now;
    this.dispatchEvent(new CustomEvent('change'));
  }
}
