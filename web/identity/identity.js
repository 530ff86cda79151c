/**
 * This browser's identity: the account key and this device's certified keys
 * (DESIGN.md section 2), kept in IndexedDB.
 *
 * - Device keys (Ed25519 for signing, X25519 for encryption) are generated as
 *   non-extractable CryptoKeys: not even this page can read them back out.
 * - The account key must stay exportable, because an identity backup and linking a new
 *   device will need its seed. WebCrypto cannot make a key that is exportable "later
 *   only", so the 32-byte seed is stored sealed with AES-256-GCM under a separate,
 *   non-extractable wrapping key that lives beside it in IndexedDB. Someone who copies
 *   the database files off the disk without the browser's key store gets ciphertext;
 *   the seed is unsealed only in memory, only when needed (certifying this device now,
 *   backups and linking later), and the account CryptoKey made from it is non-extractable.
 * - A cookie marks that this browser had an identity. Browsers evict IndexedDB under
 *   storage pressure but not cookies, so "marker present, keys gone" means the keys
 *   were evicted, and the user is told so instead of silently becoming someone new.
 * @module
 */

import { b64e } from '../crypto/bytes.js';
import { seal, open } from '../crypto/aead.js';
import { generateKeyPair, importSeed } from '../crypto/ed25519.js';
import { generateKeyPair as generateX25519 } from '../crypto/x25519.js';
import { certifyDevice } from '../protocol/certificate.js';
import { del, get, put } from './db.js';

const RECORD = 'identity';
const MARKER = 'hearth_identity';
const SEED_AAD = new TextEncoder().encode('hearth/v1/browser/account-seed');

/**
 * @typedef {object} Identity
 * @property {string} account account public key, base64url (how others name us)
 * @property {Uint8Array} accountPublic
 * @property {{privateKey: CryptoKey, publicKey: Uint8Array}} device Ed25519 signing pair
 * @property {{privateKey: CryptoKey, publicKey: Uint8Array}} x25519 encryption pair
 * @property {Uint8Array} certificate 169 bytes, signed by the account key
 * @property {string} deviceId device public key, base64url
 * @property {string} name display name
 * @property {number} createdAt ms
 */

/** Thrown when this browser had an identity but its keys are gone (storage evicted). */
export class KeysLostError extends Error {
  constructor() {
    super('This browser had a Hearth identity, but its keys are gone.');
    this.name = 'KeysLostError';
  }
}

function hasMarker() {
  return document.cookie.split(';').some((c) => c.trim().startsWith(`${MARKER}=`));
}

function setMarker() {
  document.cookie = `${MARKER}=1; Max-Age=${10 * 365 * 24 * 3600}; Path=/; SameSite=Strict`;
}

function clearMarker() {
  document.cookie = `${MARKER}=; Max-Age=0; Path=/; SameSite=Strict`;
}

/**
 * @param {any} r the stored record
 * @returns {Identity}
 */
function fromRecord(r) {
  return {
    account: b64e(r.accountPublic),
    accountPublic: r.accountPublic,
    device: { privateKey: r.deviceSigning, publicKey: r.devicePublic },
    x25519: { privateKey: r.x25519Private, publicKey: r.x25519Public },
    certificate: r.certificate,
    deviceId: b64e(r.devicePublic),
    name: r.name,
    createdAt: r.createdAt,
  };
}

/**
 * The stored identity; null on a first visit; KeysLostError if it was evicted.
 * @returns {Promise<Identity | null>}
 */
export async function loadIdentity() {
  const record = await get(RECORD);
  if (record) {
    setMarker(); // refresh: keeps the marker as long as the keys
    return fromRecord(record);
  }
  if (hasMarker()) throw new KeysLostError();
  return null;
}

/**
 * Create and store a new device, certified by the account key: a new account, or with
 * ``seed`` an existing one (from a link transfer or an identity backup file). The seed
 * is wiped once sealed.
 * @param {string} name
 * @param {Uint8Array} [seed] 32 bytes
 * @returns {Promise<Identity>}
 */
export async function createIdentity(name, seed = crypto.getRandomValues(new Uint8Array(32))) {
  const account = await importSeed(seed);
  const wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false,
    ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealedSeed = await seal(wrapKey, iv, seed, SEED_AAD);
  seed.fill(0);
  const device = await generateKeyPair();
  const x25519 = await generateX25519();
  const createdAt = Date.now();
  const certificate = await certifyDevice(account.privateKey, {
    account: account.publicKey, device: device.publicKey, deviceX25519: x25519.publicKey,
    issuedAt: createdAt,
  });
  const record = {
    v: 1,
    accountPublic: account.publicKey,
    wrapKey,
    sealedSeed: { iv, ciphertext: sealedSeed },
    deviceSigning: device.privateKey,
    devicePublic: device.publicKey,
    x25519Private: x25519.privateKey,
    x25519Public: x25519.publicKey,
    certificate,
    name,
    createdAt,
  };
  await put(RECORD, record);
  setMarker();
  return fromRecord(record);
}

/**
 * The account seed, unsealed in memory: for identity backup and device linking
 * (callers wipe it with ``fill(0)`` when done).
 * @returns {Promise<Uint8Array>}
 */
export async function unsealAccountSeed() {
  const record = await get(RECORD);
  if (!record) throw new KeysLostError();
  return open(record.wrapKey, record.sealedSeed.iv, record.sealedSeed.ciphertext, SEED_AAD);
}

/**
 * @param {string} name
 * @returns {Promise<void>}
 */
export async function saveName(name) {
  const record = await get(RECORD);
  if (!record) throw new KeysLostError();
  await put(RECORD, { ...record, name });
}

/**
 * Forget the lost identity and start over (after the user has read why).
 * @returns {Promise<void>}
 */
export async function forgetIdentity() {
  await del(RECORD);
  clearMarker();
}

/**
 * Ask the browser not to evict our storage; true if granted. Browsers may decide by
 * engagement, so a refusal is normal and only reported, never fatal.
 * @returns {Promise<boolean>}
 */
export async function requestPersistence() {
  try {
    if (await navigator.storage?.persisted?.()) return true;
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
