/**
 * This device's session with one host: its spaces and role, live subscriptions kept
 * alive across token expiry and reconnects, and notice of removal.
 *
 * Subscriptions: one ``["*"]`` token per space, renewed a minute before it expires and
 * again after every reconnect (the relay forgets a connection's subscriptions when it
 * drops). After a reconnect or the host coming back, ``resumed`` tells channel views
 * to catch up by sequence number, so nothing sent meanwhile is missed.
 *
 * Events: ``spaces`` (the list changed), ``message`` {body} (a ``msg`` event), ``del``
 * {body} (messages were deleted or expired), ``chan`` {body} (a channel's settings changed;
 * ``spaces`` holds the new ones already), ``rcpt`` {body} (read markers moved), ``removed`` {space, name},
 * ``followed`` {space} (a subscription was confirmed), ``resumed``, ``status`` {online},
 * ``revoked`` (this device was signed out).
 * @module
 */

import { b64e } from '../crypto/bytes.js';
import { backoffDelay } from '../protocol/connection.js';
import { RequestError } from '../protocol/errors.js';

const RENEW_BEFORE_MS = 60_000;

/**
 * @typedef {{id: string, name: string, seq: number, ttl_s?: number}} Channel ``ttl_s``: seconds
 *   until a message disappears (0 or absent: never)
 * @typedef {{id: string, name: string, role: 'owner' | 'admin' | 'member', channels: Channel[]}} Space
 */

export class HostSession extends EventTarget {
  /** @type {Map<string, Space>} */ spaces = new Map();
  owner = false;
  hostOnline = true;
  ready = false;
  /** the host's list of spaces arrived at least once: until then ``spaces`` is not news */
  listed = false;
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */ #renewals = new Map();
  #resumeGeneration = 0;

  /**
   * @param {import('../protocol/connection.js').RelayConnection} conn
   * @param {string} hostId
   * @param {() => string} displayName
   */
  constructor(conn, hostId, displayName) {
    super();
    this.conn = conn;
    this.hostId = hostId;
    this.displayName = displayName;
    conn.addEventListener('online', (e) => {
      if (/** @type {CustomEvent} */ (e).detail.reconnect) void this.resume();
    });
    conn.addEventListener('event', (e) => {
      const { host, body } = /** @type {CustomEvent} */ (e).detail;
      if (host !== this.hostId) return;
      if (body.k === 'msg') this.#emit('message', { body });
      else if (body.k === 'chan') this.#onChannel(body);
      else if (body.k === 'del' || body.k === 'rcpt') this.#emit(body.k, { body });
      else if (body.k === 'mem' && body.chan === body.space) this.#emit('members', { space: body.space, acct: body.info?.acct, role: body.info?.role });
    });
    conn.addEventListener('unsubbed', (e) => this.#onUnsubbed(/** @type {CustomEvent} */ (e).detail));
    conn.addEventListener('host_status', (e) => {
      const frame = /** @type {CustomEvent} */ (e).detail;
      if (frame.host !== this.hostId) return;
      this.hostOnline = frame.online;
      this.#emit('status', { online: frame.online });
      if (frame.online) void this.resume();
    });
  }

  /**
   * A ``chan`` event: a channel was created, renamed, deleted or given a timer. A channel
   * this device has not listed, or one that is gone, makes it ask for the list again (the
   * host's list is the truth); otherwise keep the new settings, then tell the views.
   * @param {Record<string, any>} body
   */
  #onChannel(body) {
    const space = this.spaces.get(body.space);
    const changed = body.info?.channel;
    const held = space?.channels.find((c) => c.id === body.chan);
    if (space && (!held || body.info?.deleted)) {
      void this.refreshSpaces().catch((e) => console.warn('hearth: channel list', e));
    } else if (held && changed && changed.id === body.chan) {
      const renamed = changed.name !== held.name;
      Object.assign(held, changed);
      if (renamed) this.#emit('spaces');
    }
    this.#emit('chan', { body });
  }

  /**
   * @param {string} type
   * @param {object} [detail]
   */
  #emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * One signed request to this host. A ``not_member`` answer refreshes the space list
   * (that is how a removal that happened while offline is noticed).
   * @param {string} op
   * @param {object} [args]
   * @returns {Promise<Record<string, any>>}
   */
  async call(op, args = {}) {
    try {
      return await this.conn.request(this.hostId, op, args);
    } catch (e) {
      if (e instanceof RequestError && e.code === 'not_member') void this.refreshSpaces();
      if (e instanceof RequestError && e.code === 'device_revoked') this.#emit('revoked');
      throw e;
    }
  }

  /** Register this device with the host (idempotent) and follow every space. */
  async start() {
    const r = await this.call('hello', { cert: b64e(this.conn.credentials.certificate), name: this.displayName() });
    this.owner = Boolean(r.owner);
    this.#setSpaces(r.spaces);
    this.ready = true;
    await Promise.all([...this.spaces.keys()].map((s) => this.follow(s)));
  }

  /**
   * Hello and resubscribe after a reconnect, retrying with backoff: right after a relay
   * restart the host may not have reconnected yet (host_offline). A newer resume (the
   * next reconnect) supersedes this one.
   */
  async resume() {
    const generation = ++this.#resumeGeneration;
    for (let attempt = 0; generation === this.#resumeGeneration; attempt++) {
      try {
        await this.start();
        this.#emit('resumed');
        return;
      } catch (e) {
        if (e instanceof RequestError && e.code === 'device_revoked') return;
        console.warn('hearth: could not resume the session with', this.hostId, e);
      }
      await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      if (this.conn.state !== 'online') await this.conn.whenOnline(60_000).catch(() => undefined);
    }
  }

  /** @param {Space[]} list */
  #setSpaces(list) {
    const before = new Map(this.spaces);
    this.spaces = new Map(list.map((s) => [s.id, s]));
    this.listed = true;
    for (const [id, space] of before) {
      if (!this.spaces.has(id)) {
        this.#stopRenewing(id);
        this.#emit('removed', { space: id, name: space.name });
      }
    }
    this.#emit('spaces');
  }

  /** Ask the host for the current list of spaces (after a change or a revocation). */
  async refreshSpaces() {
    const r = await this.conn.request(this.hostId, 'space.list', {});
    this.#setSpaces(r.spaces);
    for (const id of this.spaces.keys()) {
      if (!this.#renewals.has(id)) void this.follow(id).catch(() => undefined);
    }
  }

  /**
   * Subscribe to every channel of ``space``, and keep the subscription alive.
   * @param {string} space
   */
  async follow(space) {
    this.#stopRenewing(space);
    const granted = await this.call('token', { space, chans: ['*'] });
    const subbed = await this.conn.subscribe(this.hostId, space, granted.token, ['*']);
    this.#emit('followed', { space });
    const renewIn = Math.max(5_000, subbed.exp - Date.now() - RENEW_BEFORE_MS);
    this.#renewals.set(space, setTimeout(() => {
      this.follow(space).catch((e) => console.warn('hearth: could not renew a subscription', e));
    }, renewIn));
  }

  /** @param {string} space */
  #stopRenewing(space) {
    clearTimeout(this.#renewals.get(space));
    this.#renewals.delete(space);
  }

  /** @param {Record<string, any>} frame */
  #onUnsubbed(frame) {
    if (frame.host !== this.hostId || !this.spaces.has(frame.space)) return;
    if (frame.reason === 'expired') {
      void this.follow(frame.space).catch(() => undefined);
    } else if (frame.reason === 'revoked') {
      this.#stopRenewing(frame.space);
      // Revoked: removed from the space, the space deleted, or this device revoked.
      this.refreshSpaces().catch((e) => {
        if (e instanceof RequestError && e.code === 'device_revoked') this.#emit('revoked');
      });
    }
  }

  /** Stop renewing everything (the tab gave up the device). */
  stop() {
    for (const space of [...this.#renewals.keys()]) this.#stopRenewing(space);
  }
}
