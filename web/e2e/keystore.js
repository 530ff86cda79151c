/**
 * One device's end-to-end state on one host: prekey private keys, outbound and inbound
 * sessions; the twin of hearth/e2e/keystore.py, persisted in IndexedDB.
 *
 * Invariants: a one-time prekey's private key is deleted the moment a share sealed to
 * it is opened; an outbound session remembers, per recipient device, the index it was
 * first shared at, so a removed recipient is noticed (and the session rotated) on the
 * next send; inbound sessions keep the earliest key they were given (what the key
 * backup stores).
 *
 * Storage: prekey private keys are non-extractable X25519 CryptoKeys, stored as they are
 * (IndexedDB clones CryptoKeys without exposing their material). Chain keys are bytes by
 * design (sender_session.js says why). Only the tab holding the device lock
 * (identity/tab_lock.js) loads and saves a store, so two tabs never advance one chain.
 * An outbound session is saved after each message is sealed and before it is sent, so a
 * reload can never seal two messages at one index.
 * @module
 */

import { b64d, b64e } from '../crypto/bytes.js';
import { BackedUpSession } from '../crypto/backup.js';
import { Kind, makePrekey } from '../crypto/prekeys.js';
import { InboundSession, OutboundSession, SessionKey } from '../crypto/sender_session.js';
import { Serial } from '../crypto/serial.js';
import { generateKeyPair } from '../crypto/x25519.js';
import { get, put } from '../identity/db.js';

/** Private halves of this device's prekeys, by kind and id. */
export class PrekeyVault {
  /** @type {Map<string, CryptoKey>} "kind:id" -> private key */ keys = new Map();
  nextId = 1;

  /**
   * @param {number} kind
   * @param {number} keyId
   * @returns {CryptoKey | undefined}
   */
  lookup(kind, keyId) {
    return this.keys.get(`${kind}:${keyId}`);
  }

  /**
   * Forget a one-time prekey once a share sealed to it was opened.
   * @param {number} kind
   * @param {number} keyId
   */
  used(kind, keyId) {
    if (kind === Kind.ONE_TIME) this.keys.delete(`${kind}:${keyId}`);
  }

  /**
   * @param {import('../crypto/ed25519.js').Ed25519KeyPair} device
   * @param {number} kind
   * @param {number} nowMs
   * @returns {Promise<import('../crypto/prekeys.js').Prekey>}
   */
  async make(device, kind, nowMs) {
    const { privateKey } = await generateKeyPair();
    const keyId = this.nextId++;
    this.keys.set(`${kind}:${keyId}`, privateKey);
    return makePrekey(device, kind, keyId, nowMs, privateKey);
  }
}

/** This device's sending state in one channel. */
export class Outbound {
  /** @type {Map<string, number>} recipient device -> the index it was first shared at */
  sharedWith = new Map();
  /** @type {Map<string, number>} device that had no prekey left -> the index it was owed */
  owed = new Map();

  /**
   * @param {OutboundSession} session
   * @param {SessionKey} origin the key at index 0: re-derives what a device was owed
   */
  constructor(session, origin) {
    this.session = session;
    this.origin = origin;
  }

  /**
   * @param {OutboundSession} session
   * @returns {Promise<Outbound>}
   */
  static async start(session) {
    return new Outbound(session, await session.export());
  }
}

/**
 * "space/chan" for outbound, "space/chan/sender/session" for inbound: a host's store
 * holds only its own host's sessions.
 * @param {...string} parts
 * @returns {string}
 */
export function ref(...parts) {
  return parts.join('/');
}

export class KeyStore {
  prekeys = new PrekeyVault();
  /** @type {Map<string, Outbound>} space/chan -> outbound */ outbound = new Map();
  /** @type {Map<string, InboundSession>} space/chan/sender/session -> inbound */
  inbound = new Map();
  /** @type {Map<string, {space: string, chan: string, sender: string}>} where each inbound belongs */
  places = new Map();
  #saving = new Serial();

  /**
   * @param {string} hostId
   * @param {string} deviceId the state belongs to this device's keys only
   */
  constructor(hostId, deviceId) {
    this.hostId = hostId;
    this.deviceId = deviceId;
  }

  /**
   * Keep ``key``; true if it is new or reaches further back than what was held.
   * @param {string} space
   * @param {string} chan
   * @param {string} sender device, base64url
   * @param {SessionKey} key
   * @returns {boolean}
   */
  addInbound(space, chan, sender, key) {
    const r = ref(space, chan, sender, b64e(key.sessionId));
    const held = this.inbound.get(r);
    if (held === undefined) {
      this.inbound.set(r, InboundSession.fromKey(key));
      this.places.set(r, { space, chan, sender });
      return true;
    }
    return held.merge(key);
  }

  /** @returns {BackedUpSession[]} every inbound session, in a stable order */
  backedUp() {
    return [...this.inbound.keys()].sort().map((r) => {
      const { space, chan, sender } = /** @type {{space: string, chan: string, sender: string}} */ (this.places.get(r));
      return new BackedUpSession(this.hostId, space, chan, b64d(sender),
        /** @type {InboundSession} */ (this.inbound.get(r)).export());
    });
  }

  /**
   * Import backed-up sessions of this host; how many were new or extended.
   * @param {BackedUpSession[]} sessions
   * @returns {number}
   */
  restore(sessions) {
    let learned = 0;
    for (const s of sessions) {
      if (s.host === this.hostId && this.addInbound(s.space, s.chan, b64e(s.sender), s.key)) learned++;
    }
    return learned;
  }

  /** @returns {string} the IndexedDB record of this host's store */
  get record() {
    return `e2e/${this.deviceId}/${this.hostId}`;
  }

  /**
   * Write the whole store (small: a few hundred bytes per session); writes run in order.
   * @returns {Promise<void>}
   */
  save() {
    return this.#saving.run(async () => {
      const outbound = [];
      for (const [r, out] of this.outbound) {
        outbound.push({ ref: r, sessionId: out.session.sessionId, index: out.session.index,
          chainKey: out.session.chainKey, createdAt: out.session.createdAt,
          origin: out.origin.toBytes(), sharedWith: [...out.sharedWith], owed: [...out.owed] });
      }
      const inbound = [...this.inbound].map(([r, s]) => ({ ref: r, ...this.places.get(r),
        key: s.export().toBytes(), seen: [...s.seen] }));
      await put(this.record, { v: 1, nextId: this.prekeys.nextId,
        prekeys: [...this.prekeys.keys], outbound, inbound });
    });
  }

  /**
   * This host's stored state, or an empty store (a first visit, or state lost).
   * @param {string} hostId
   * @param {string} deviceId
   * @returns {Promise<KeyStore>}
   */
  static async load(hostId, deviceId) {
    const store = new KeyStore(hostId, deviceId);
    const saved = await get(store.record);
    if (!saved) return store;
    store.prekeys.nextId = saved.nextId;
    store.prekeys.keys = new Map(saved.prekeys);
    for (const o of saved.outbound) {
      const out = new Outbound(new OutboundSession(o.sessionId, o.index, o.chainKey, o.createdAt),
        SessionKey.fromBytes(o.origin));
      out.sharedWith = new Map(o.sharedWith);
      out.owed = new Map(o.owed);
      store.outbound.set(o.ref, out);
    }
    for (const i of saved.inbound) {
      const key = SessionKey.fromBytes(i.key);
      store.inbound.set(i.ref, new InboundSession(key.sessionId, key.index, key.chainKey, new Map(i.seen)));
      store.places.set(i.ref, { space: i.space, chan: i.chan, sender: i.sender });
    }
    return store;
  }
}
