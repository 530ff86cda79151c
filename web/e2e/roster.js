/**
 * Who a channel's messages are encrypted to, as this device verified it
 * (``space.devices``); the twin of hearth/e2e/roster.py.
 *
 * Invariant: a device counts only if its certificate verifies under the account key it
 * is listed for and names that device; anything else the host lists is kept in
 * ``uncertified`` (a host that adds a device to an existing user is detected, never
 * trusted) and shown to the user. Revoked devices are kept, with the time of
 * revocation, to judge old messages. Keys are base64url strings throughout.
 * @module
 */

import { b64d, b64e, equal } from '../crypto/bytes.js';
import { openCertificate } from '../protocol/certificate.js';

/**
 * @typedef {object} Device
 * @property {string} dev
 * @property {string} acct
 * @property {Uint8Array} x25519
 * @property {number} createdAt
 * @property {number | null} revokedAt
 */

/** @typedef {{acct: string, dev: string, why: string}} Uncertified */

export class Roster {
  /** @type {Map<string, number>} account -> joined_at */ members = new Map();
  /** @type {Map<string, number>} account -> left_at */ departed = new Map();
  /** @type {Map<string, Device>} */ devices = new Map();
  /** @type {Uncertified[]} */ uncertified = [];

  /**
   * @param {string} space
   * @param {number} fetchedAt
   */
  constructor(space, fetchedAt) {
    this.space = space;
    this.fetchedAt = fetchedAt;
  }

  /** @returns {Set<string>} every unrevoked certified device of a current member */
  recipients() {
    return new Set([...this.devices.values()]
      .filter((d) => d.revokedAt === null && this.members.has(d.acct)).map((d) => d.dev));
  }
}

/**
 * @param {string} acct
 * @param {Record<string, any>} entry
 * @returns {Promise<Device>}
 */
async function checkDevice(acct, entry) {
  const cert = await openCertificate(b64d(String(entry.cert), { field: 'cert' }));
  if (b64e(cert.account) !== acct) {
    throw new Error(`its certificate is signed by account ${b64e(cert.account)}`);
  }
  if (!equal(cert.device, b64d(String(entry.dev), { field: 'dev', size: 32 }))) {
    throw new Error(`its certificate is for device ${b64e(cert.device)}`);
  }
  const revoked = entry.revoked_at;
  return { dev: b64e(cert.device), acct, x25519: cert.deviceX25519,
    createdAt: Number(entry.created_at), revokedAt: revoked == null ? null : Number(revoked) };
}

/**
 * Check every certificate in a ``space.devices`` answer.
 * @param {string} space
 * @param {Record<string, any>} listing
 * @param {number} nowMs
 * @returns {Promise<Roster>}
 */
export async function verifyRoster(space, listing, nowMs) {
  const roster = new Roster(space, nowMs);
  const groups = [...listing.members.map((/** @type {any} */ m) => [m, true]),
    ...listing.departed.map((/** @type {any} */ d) => [d, false])];
  for (const [entry, current] of groups) {
    const acct = String(entry.acct);
    if (current) roster.members.set(acct, Number(entry.joined_at));
    else roster.departed.set(acct, Number(entry.left_at));
    for (const device of entry.devices) {
      try {
        const checked = await checkDevice(acct, device);
        roster.devices.set(checked.dev, checked);
      } catch (e) {
        roster.uncertified.push({ acct, dev: String(device.dev),
          why: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return roster;
}
