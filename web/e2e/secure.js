/**
 * The end-to-end layer over one host: encrypted send, verified and decrypted receive;
 * the twin of hearth/e2e/secure.py (SecureClient), which is the reference behaviour.
 *
 * Sending (per message: one AES-256-GCM seal and one Ed25519 signature): refresh the
 * space's roster, rotate the channel's outbound session if a device it was shared with
 * is gone, or after ``rotateMessages`` messages or ``rotateMs``; share the session with
 * every certified device not yet holding it (one prekey claim, one HPKE seal each, one
 * ``keys.put``); then seal. The caller publishes (chat/outbox.js), so a retry resends
 * the very same envelope under the same id.
 *
 * Receiving: the sender device must be certified by the account the host names, not
 * revoked when it sent, and that account a member then; the signature must cover the
 * place the message was delivered; the session key comes from the shares stored beside
 * the message (fetched again whenever a message is shown without one). Every failure
 * is an E2EError with a plain-words Reason (reasons.js).
 *
 * Differences from Python, and why: the browser keeps its state across reloads
 * (keystore.js), so prekeys are replaced only when the store is new; a roster fetched
 * less than ``rosterTtlMs`` ago serves *reading* (a page of history would otherwise
 * cost one request per message; an unknown sender still forces a fresh fetch), while
 * sending always fetches it fresh, as Python's default does.
 * @module
 */

import { b64d, b64e, toHex, utf8 } from '../crypto/bytes.js';
import * as keyBackup from '../crypto/backup.js';
import * as envelope from '../crypto/envelope.js';
import { HearthError } from '../crypto/errors.js';
import * as keyShare from '../crypto/key_share.js';
import { Kind, Prekey } from '../crypto/prekeys.js';
import { OutboundSession, ratchetTo } from '../crypto/sender_session.js';
import { Serial } from '../crypto/serial.js';
import { RequestError, UserError } from '../protocol/errors.js';
import { KeyStore, Outbound, ref } from './keystore.js';
import { E2EError, Reason, reasonFor } from './reasons.js';
import { verifyRoster } from './roster.js';

export const DAY_MS = 24 * 3600 * 1000;
/** hearth/limits.py: at most this many shares per keys.put, prekeys per put, and the low mark. */
const KEY_SHARES_PER_PUT = 200;
const PREKEYS_PER_PUT = 100;
const PREKEYS_LOW = 20;
const BACKUP_DELAY_MS = 1500;
const SHOWN_KEPT = 500;

/**
 * @typedef {import('../chat/timeline.js').StoredMessage} StoredMessage
 * @typedef {import('./roster.js').Roster} Roster
 * @typedef {import('../crypto/recovery.js').Recovery} Recovery
 * @typedef {{sess: string, from_dev: string, from_acct: string, share: string, seq?: number}} ShareItem
 * @typedef {{ok: true, text: string} | {ok: false, reason: import('./reasons.js').Reason, detail: string}} Shown
 */

export class SecureClient extends EventTarget {
  /** @type {Recovery | null} */ recovery = null;
  /** @type {Map<string, Roster>} */ rosters = new Map();
  /** @type {Map<string, Promise<Roster>>} roster fetches in flight, by space */
  #rosterFetches = new Map();
  /** @type {Map<string, number>} space/chan/message id -> the seq it was delivered as */
  #delivered = new Map();
  /** @type {Map<string, Promise<void>>} keys.fetch in flight, by inbound ref */
  #fetches = new Map();
  /** Sends run one at a time: two must not start two sessions for one channel. */
  #sending = new Serial();
  /**
   * @type {Map<string, Promise<Shown>>} recent ``show`` results by the message's exact
   * fields: the open channel and the unread counter open each live message, and it is
   * decrypted once. Only successes stay (a failure may turn into text later).
   */
  #shown = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #backupTimer;
  /** @type {Promise<number> | null} */ #backingUp = null;

  /**
   * @param {{hostId: string, call: (op: string, args?: object) => Promise<Record<string, any>>}} session
   * @param {import('../identity/identity.js').Identity} identity
   * @param {KeyStore} keys
   * @param {{rotateMessages?: number, rotateMs?: number, rosterTtlMs?: number, oneTimePrekeys?: number}} [options]
   */
  constructor(session, identity, keys, { rotateMessages = 100, rotateMs = 7 * DAY_MS,
    rosterTtlMs = 10_000, oneTimePrekeys = 50 } = {}) {
    super();
    this.session = session;
    this.hostId = session.hostId;
    this.identity = identity;
    this.me = identity.deviceId;
    this.keys = keys;
    this.rotateMessages = rotateMessages;
    this.rotateMs = rotateMs;
    this.rosterTtlMs = rosterTtlMs;
    this.oneTimePrekeys = oneTimePrekeys;
  }

  /**
   * The client for ``session``, with this device's stored state on its host.
   * @param {{hostId: string, call: (op: string, args?: object) => Promise<Record<string, any>>}} session
   * @param {import('../identity/identity.js').Identity} identity
   * @param {ConstructorParameters<typeof SecureClient>[3]} [options]
   * @returns {Promise<SecureClient>}
   */
  static async open(session, identity, options) {
    return new SecureClient(session, identity, await KeyStore.load(session.hostId, identity.deviceId), options);
  }

  // ---- setup ---------------------------------------------------------------------

  /**
   * Publish prekeys, and with a recovery secret, merge the account's key backup (a new
   * or linked device reads history from before it existed this way).
   * @returns {Promise<void>}
   */
  async start() {
    await this.replenishPrekeys();
    if (this.recovery) await this.restoreBackup(this.recovery).catch((e) => {
      if (!(e instanceof RequestError && e.code === 'not_found')) throw e;
    });
  }

  /**
   * Upload a signed prekey if the host has none and one-time prekeys when fewer than
   * PREKEYS_LOW are left; a new store replaces everything the host held for this device
   * (it holds no private halves for it).
   * @returns {Promise<Record<string, any>>} the host's counts after the upload
   */
  async replenishPrekeys() {
    /** @type {Record<string, any>} */
    const args = {};
    const device = this.identity.device;
    const fresh = this.keys.prekeys.keys.size === 0;
    const counts = fresh ? { signed: false, one_time: 0 } : await this.call('prekey.put');
    if (fresh) args.reset = true;
    const now = Date.now();
    if (!counts.signed) {
      args.signed = b64e((await this.keys.prekeys.make(device, Kind.SIGNED, now)).toBytes());
    }
    if (counts.one_time < PREKEYS_LOW) {
      const wanted = Math.max(0, Math.min(this.oneTimePrekeys - counts.one_time, PREKEYS_PER_PUT));
      args.one_time = [];
      for (let i = 0; i < wanted; i++) {
        args.one_time.push(b64e((await this.keys.prekeys.make(device, Kind.ONE_TIME, now)).toBytes()));
      }
    }
    if (!Object.keys(args).length) return counts;
    // Private halves are stored before the public ones are published: a share sealed to
    // a prekey this device forgot would be unreadable for good.
    await this.keys.save();
    return this.call('prekey.put', args);
  }

  /**
   * The account's recovery secret: required before the first message is sent.
   * @param {Recovery} recovery
   */
  useRecovery(recovery) {
    this.recovery = recovery;
  }

  // ---- roster ----------------------------------------------------------------------

  /**
   * The space's verified roster; ``fresh`` fetches it now, otherwise one younger than
   * ``rosterTtlMs`` is reused and concurrent callers share one fetch.
   * @param {string} space
   * @param {{fresh?: boolean}} [options]
   * @returns {Promise<Roster>}
   */
  async roster(space, { fresh = false } = {}) {
    const held = this.rosters.get(space);
    if (held && !fresh && Date.now() - held.fetchedAt < this.rosterTtlMs) return held;
    let fetching = this.#rosterFetches.get(space);
    if (!fetching) {
      fetching = (async () => {
        const listing = await this.call('space.devices', { space });
        const roster = await verifyRoster(space, listing, Date.now());
        this.rosters.set(space, roster);
        if (roster.uncertified.length) this.#emit('uncertified', { space, roster });
        return roster;
      })().finally(() => this.#rosterFetches.delete(space));
      this.#rosterFetches.set(space, fetching);
    }
    return fetching;
  }

  // ---- sending ---------------------------------------------------------------------

  /**
   * Encrypt ``text`` as message ``msgId`` of ``space``/``chan``: the envelope and the
   * session id to ``publish`` with it.
   * @param {string} space
   * @param {string} chan
   * @param {string} msgId
   * @param {string} text
   * @returns {Promise<{env: string, sess: string}>}
   */
  encrypt(space, chan, msgId, text) {
    if (!this.recovery) {
      return Promise.reject(new UserError('Set up account recovery before sending your first message, so that your other devices can read it too.'));
    }
    return this.#sending.run(async () => {
      const out = await this.#outbound(space, chan);
      const place = { host: this.hostId, space, chan, msgId };
      const sealed = await envelope.seal(this.identity.device, out.session, place, utf8(text), Date.now());
      await this.keys.save(); // before it leaves: a reload must never reuse this index
      return { env: b64e(sealed), sess: b64e(out.session.sessionId) };
    });
  }

  /**
   * Drop the outbound session(s) of ``space`` (or one channel): the next message starts
   * a new one, shared only with the devices present then.
   * @param {string} space
   * @param {string} [chan]
   */
  rotate(space, chan) {
    for (const r of [...this.keys.outbound.keys()]) {
      const [s, c] = r.split('/');
      if (s === space && (chan === undefined || c === chan)) this.keys.outbound.delete(r);
    }
    void this.keys.save();
  }

  /**
   * @param {string} space
   * @param {string} chan
   * @returns {Promise<Outbound>}
   */
  async #outbound(space, chan) {
    const roster = await this.roster(space, { fresh: true });
    const recipients = roster.recipients();
    recipients.delete(this.me);
    const r = ref(space, chan);
    let out = this.keys.outbound.get(r);
    const now = Date.now();
    if (out && ([...out.sharedWith.keys()].some((d) => !recipients.has(d))
        || out.session.index >= this.rotateMessages
        || now - out.session.createdAt >= this.rotateMs)) {
      out = undefined;
    }
    if (!out) {
      out = await Outbound.start(OutboundSession.create(now));
      this.keys.outbound.set(r, out);
      // Our own inbound copy: this device reads its own messages in history too, and
      // the key backup carries them to the account's other devices.
      this.keys.addInbound(space, chan, this.me, out.origin);
      await this.keys.save();
      this.#scheduleBackup();
    }
    const missing = [...recipients].filter((d) => !out.sharedWith.has(d));
    if (missing.length) await this.#share(space, chan, out, missing);
    return out;
  }

  /**
   * Share the session with ``devices``: from the current index, or from the index a
   * device was owed when it had no prekey left (it was a recipient then).
   * @param {string} space
   * @param {string} chan
   * @param {Outbound} out
   * @param {string[]} devices
   */
  async #share(space, chan, out, devices) {
    const claimed = await this.call('prekey.claim', { devs: [...devices].sort() });
    const place = { host: this.hostId, space, chan };
    const current = await out.session.export();
    /** @type {Array<[string, string]>} */
    const shares = [];
    /** @type {Map<string, number>} */
    const given = new Map();
    for (const item of claimed.prekeys) {
      const dev = b64d(item.dev, { field: 'dev', size: 32 });
      // Verified against the device itself: the host cannot slip in its own key.
      const prekey = await Prekey.fromBytes(b64d(item.prekey, { field: 'prekey' }), dev);
      const owed = out.owed.get(item.dev);
      const key = owed === undefined ? current : await ratchetTo(out.origin, owed);
      shares.push([item.dev, b64e(await keyShare.seal(this.identity.device, dev, prekey, place, key))]);
      given.set(item.dev, key.index);
    }
    shares.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (let start = 0; start < shares.length; start += KEY_SHARES_PER_PUT) {
      await this.call('keys.put', { space, chan, sess: b64e(out.session.sessionId),
        shares: Object.fromEntries(shares.slice(start, start + KEY_SHARES_PER_PUT)) });
    }
    for (const [dev, index] of given) {
      out.sharedWith.set(dev, index);
      out.owed.delete(dev);
    }
    for (const dev of claimed.missing) {
      if (!out.owed.has(dev)) out.owed.set(dev, current.index);
    }
    await this.keys.save();
  }

  // ---- receiving -------------------------------------------------------------------

  /**
   * A stored or live message as it can be shown: its text, or why not. ``shares`` are
   * the key shares that came with its history page. Never throws for the message's
   * sake; only a failure to reach the host propagates (the caller retries).
   * @param {string} space
   * @param {string} chan
   * @param {StoredMessage} m
   * @param {ShareItem[]} [shares]
   * @returns {Promise<Shown>}
   */
  show(space, chan, m, shares = []) {
    const key = JSON.stringify([space, chan, m.seq, m.id, m.acct, m.dev, m.env]);
    const held = this.#shown.get(key);
    if (held) return held;
    const showing = this.#show(space, chan, m, shares);
    this.#shown.set(key, showing);
    if (this.#shown.size > SHOWN_KEPT) this.#shown.delete(this.#shown.keys().next().value ?? '');
    showing.then((shown) => { if (!shown.ok) this.#shown.delete(key); },
      () => this.#shown.delete(key));
    return showing;
  }

  /**
   * ``show`` without the memo.
   * @param {string} space
   * @param {string} chan
   * @param {StoredMessage} m
   * @param {ShareItem[]} shares
   * @returns {Promise<Shown>}
   */
  async #show(space, chan, m, shares) {
    try {
      if (shares.length) await this.acceptShares(space, chan, shares);
      const plaintext = await this.decrypt(space, chan, m);
      // It verified and opened, so it is the sender's: invalid UTF-8 is shown with U+FFFD
      // (docs/protocol.md §13.1), as hearth/content.py does.
      return { ok: true, text: new TextDecoder('utf-8').decode(plaintext) };
    } catch (e) {
      if (e instanceof E2EError) return { ok: false, reason: e.reason, detail: e.detail };
      throw e;
    }
  }

  /**
   * The plaintext of one delivered message, or E2EError naming why not.
   * @param {string} space
   * @param {string} chan
   * @param {StoredMessage} m
   * @returns {Promise<Uint8Array>}
   */
  async decrypt(space, chan, m) {
    let parsed;
    try {
      parsed = envelope.parse(b64d(m.env, { field: 'env' }));
    } catch (e) {
      throw reasonFor(e);
    }
    const { header } = parsed;
    const sender = b64e(header.sender);
    if (sender !== m.dev) {
      throw new E2EError(Reason.TAMPERED, `envelope names device ${JSON.stringify(sender)}, the host says ${JSON.stringify(m.dev)} sent it`);
    }
    await this.#checkSender(space, m.acct, sender, header.sentAt);
    const place = { host: this.hostId, space, chan, msgId: m.id };
    try {
      await envelope.verifySignature(parsed, place);
    } catch (e) {
      throw reasonFor(e);
    }
    const deliveredAs = this.#delivered.get(ref(space, chan, m.id));
    if (deliveredAs !== undefined && deliveredAs !== m.seq) {
      throw new E2EError(Reason.REPLAY, `message ${JSON.stringify(m.id)} was already delivered as seq ${deliveredAs}, now again as seq ${m.seq}`);
    }
    const sess = b64e(header.sessionId);
    const r = ref(space, chan, sender, sess);
    if (!this.keys.inbound.has(r)) await this.#fetchKey(space, chan, r, sess);
    const session = this.keys.inbound.get(r);
    if (!session) throw await this.#missingKey(space, m.ts, header.sessionId);
    let plaintext;
    try {
      plaintext = await envelope.open(parsed, place, session);
    } catch (e) {
      throw reasonFor(e);
    }
    this.#delivered.set(ref(space, chan, m.id), m.seq);
    void this.keys.save(); // the replay record of the session grew
    return plaintext;
  }

  /**
   * Ask the host for the shares of one session (one request however many messages of
   * that session are shown at once).
   * @param {string} space
   * @param {string} chan
   * @param {string} r
   * @param {string} sess
   * @returns {Promise<void>}
   */
  #fetchKey(space, chan, r, sess) {
    let fetching = this.#fetches.get(r);
    if (!fetching) {
      fetching = (async () => {
        const fetched = await this.call('keys.fetch', { space, chan, sess: [sess] });
        await this.acceptShares(space, chan, fetched.keys);
      })().finally(() => this.#fetches.delete(r));
      this.#fetches.set(r, fetching);
    }
    return fetching;
  }

  /**
   * @param {string} space
   * @param {string} acct
   * @param {string} sender
   * @param {number} sentAt
   */
  async #checkSender(space, acct, sender, sentAt) {
    let roster = await this.roster(space);
    let device = roster.devices.get(sender);
    if (!device || device.acct !== acct) {
      roster = await this.roster(space, { fresh: true });
      device = roster.devices.get(sender);
    }
    if (!device || device.acct !== acct) {
      const why = roster.uncertified.find((u) => u.dev === sender)?.why ?? 'not listed for that account';
      throw new E2EError(Reason.UNCERTIFIED_DEVICE, `device ${JSON.stringify(sender)} of account ${JSON.stringify(acct)}: ${why}`);
    }
    if (device.revokedAt !== null && sentAt >= device.revokedAt) {
      throw new E2EError(Reason.SENDER_DEVICE_REMOVED, `device ${JSON.stringify(sender)} was revoked at ${device.revokedAt}, the message says it was sent at ${sentAt}`);
    }
    if (!roster.members.has(device.acct)) {
      const left = roster.departed.get(device.acct);
      if (left === undefined || sentAt >= left) {
        throw new E2EError(Reason.SENDER_REMOVED, `account ${JSON.stringify(acct)} left at ${left}, message sent at ${sentAt}`);
      }
    }
  }

  /**
   * @param {string} space
   * @param {number} ts
   * @param {Uint8Array} sessionId
   * @returns {Promise<E2EError>}
   */
  async #missingKey(space, ts, sessionId) {
    const roster = await this.roster(space);
    const joined = roster.members.get(this.identity.account);
    if (joined !== undefined && ts < joined) {
      return new E2EError(Reason.BEFORE_JOIN, `sent at ${ts}, you joined at ${joined}`);
    }
    const mine = roster.devices.get(this.me);
    if (mine && ts < mine.createdAt) {
      return new E2EError(Reason.BEFORE_DEVICE, `sent at ${ts}, this device was added at ${mine.createdAt}`);
    }
    return new E2EError(Reason.NOT_SHARED_YET, `no key share for session ${toHex(sessionId)} reached this device yet`);
  }

  /**
   * Open the shares addressed to this device; how many taught us something.
   * @param {string} space
   * @param {string} chan
   * @param {ShareItem[]} items
   * @returns {Promise<number>}
   */
  async acceptShares(space, chan, items) {
    const place = { host: this.hostId, space, chan };
    const me = b64d(this.me);
    let learned = 0;
    let usedOneTime = false;
    for (const item of items) {
      let opened;
      try {
        opened = await keyShare.open(b64d(item.share, { field: 'share' }), me, place,
          (kind, id) => this.keys.prekeys.lookup(kind, id));
      } catch (e) {
        if (e instanceof HearthError) continue; // an already-used one-time prekey, or junk: the next share may do
        throw e;
      }
      const { share, key } = opened;
      this.keys.prekeys.used(share.kind, share.prekeyId);
      usedOneTime ||= share.kind === Kind.ONE_TIME;
      const sender = b64e(share.sender);
      if (b64e(key.sessionId) !== item.sess || sender !== item.from_dev) {
        continue; // the host mislabelled it; the key still counts only for its sender
      }
      let roster = await this.roster(space);
      if (!roster.devices.has(sender)) {
        roster = await this.roster(space, { fresh: true });
        if (!roster.devices.has(sender)) continue; // shared by a device no member certified: ignored
      }
      if (this.keys.addInbound(space, chan, sender, key)) learned++;
    }
    if (learned || usedOneTime) await this.keys.save();
    if (learned) this.#scheduleBackup();
    if (usedOneTime) void this.replenishPrekeys().catch((e) => console.warn('hearth: prekey refill', e));
    return learned;
  }

  // ---- membership changes that force a new session -----------------------------------

  /**
   * @param {string} space
   * @param {string} acct
   */
  async removeMember(space, acct) {
    const result = await this.call('member.remove', { space, acct });
    this.rotate(space);
    this.rosters.delete(space);
    return result;
  }

  /** @param {string} dev */
  async revokeDevice(dev) {
    const result = await this.call('device.revoke', { dev });
    this.keys.outbound.clear();
    this.rosters.clear();
    await this.keys.save();
    return result;
  }

  // ---- key backup ------------------------------------------------------------------

  /** Back up soon: several keys learned in a burst make one upload. */
  #scheduleBackup() {
    if (!this.recovery) return;
    clearTimeout(this.#backupTimer);
    this.#backupTimer = setTimeout(() => {
      void this.backup().catch((e) => console.warn('hearth: key backup', e));
    }, BACKUP_DELAY_MS);
  }

  /**
   * Merge this device's inbound sessions into the account's backup; the new version.
   * @returns {Promise<number>}
   */
  backup() {
    // One upload at a time; a caller arriving meanwhile waits for a fresh one.
    const run = async () => {
      const recovery = this.recovery;
      if (!recovery) throw new UserError('Set up account recovery first.');
      const account = this.identity.accountPublic;
      for (let attempt = 0; attempt < 3; attempt++) {
        let version = 0;
        try {
          const stored = await this.call('backup.get');
          version = Number(stored.version);
          this.keys.restore(await keyBackup.open(b64d(stored.blob, { field: 'blob' }), recovery, account));
        } catch (e) {
          if (!(e instanceof RequestError && e.code === 'not_found')) throw e;
        }
        const blob = await keyBackup.seal(recovery, account, this.keys.backedUp());
        try {
          await this.call('backup.put', { blob: b64e(blob), version: version + 1 });
        } catch (e) {
          if (e instanceof RequestError && e.code === 'conflict') continue; // another device backed up meanwhile: merge theirs and retry
          throw e;
        }
        await this.keys.save();
        return version + 1;
      }
      throw new UserError('Your key backup kept changing on other devices at the same moment. Try again.');
    };
    const previous = this.#backingUp ?? Promise.resolve(0);
    const next = previous.catch(() => 0).then(run);
    this.#backingUp = next;
    return next;
  }

  /**
   * Adopt ``recovery`` and import the account's backed-up sessions; how many.
   * @param {Recovery} recovery
   * @returns {Promise<number>}
   */
  async restoreBackup(recovery) {
    const stored = await this.call('backup.get');
    const sessions = await keyBackup.open(b64d(stored.blob, { field: 'blob' }), recovery,
      this.identity.accountPublic);
    this.recovery = recovery;
    const learned = this.keys.restore(sessions);
    if (learned) await this.keys.save();
    this.#emit('restored', { learned });
    return learned;
  }

  // ---- plumbing --------------------------------------------------------------------

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * A request to the host; this device's own revocation becomes E2EError DEVICE_REMOVED.
   * @param {string} op
   * @param {object} [args]
   * @returns {Promise<Record<string, any>>}
   */
  async call(op, args = {}) {
    try {
      return await this.session.call(op, args);
    } catch (e) {
      if (e instanceof RequestError && e.code === 'device_revoked' && e.detail.includes('was revoked')
          && e.detail.includes(this.me)) {
        throw new E2EError(Reason.DEVICE_REMOVED, e.detail);
      }
      throw e;
    }
  }
}
