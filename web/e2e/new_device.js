/**
 * The new device's side of linking, before it has an account: connect with a throwaway
 * identity (made in memory, never stored), say hello to the host so the link slot
 * accepts it, and run the exchange (link_flow.js).
 *
 * Invariant: the throwaway keys are used only to reach the slot; the device that stays
 * is made afterwards, from the account seed the exchange delivered (identity.js).
 * @module
 */

import { b64e } from '../crypto/bytes.js';
import { generateKeyPair, importSeed } from '../crypto/ed25519.js';
import { generateKeyPair as generateX25519 } from '../crypto/x25519.js';
import { certifyDevice } from '../protocol/certificate.js';
import { RelayConnection } from '../protocol/connection.js';
import { UserError } from '../protocol/errors.js';
import { isHostId } from '../protocol/host_id.js';
import { linkNewDevice } from './link_flow.js';

/**
 * ``origin/#/link/<host id>/<link code>``, or just ``<host id>/<link code>`` on this
 * page's relay.
 * @param {string} text
 * @returns {Promise<{origin: string, hostId: string, link: string}>}
 */
export async function parseLinkAddress(text) {
  const trimmed = text.trim();
  const full = /^(https?:\/\/[^/#]+)\/?#\/link\/([a-z2-7]+)\/([a-z2-7]+)$/.exec(trimmed);
  const short = /^([a-z2-7]+)\/([a-z2-7]+)$/.exec(trimmed);
  const [origin, hostId, link] = full ? [full[1], full[2], full[3]]
    : short ? [location.origin, short[1], short[2]] : [];
  if (!origin || !hostId || !link || !(await isHostId(hostId))) {
    throw new UserError('That is not a link address. Copy it again from “Link a new device” on your other device.');
  }
  return { origin, hostId, link };
}

/**
 * Run the new device's side; resolves with the account seed and recovery secret.
 * @param {{origin: string, hostId: string, link: string}} address
 * @param {(again: boolean) => Promise<string>} typeCode
 * @returns {Promise<{accountSeed: Uint8Array, recovery: import('../crypto/recovery.js').Recovery}>}
 */
export async function receiveAccount({ origin, hostId, link }, typeCode) {
  const account = await importSeed(crypto.getRandomValues(new Uint8Array(32)));
  const device = await generateKeyPair();
  const x25519 = await generateX25519();
  const certificate = await certifyDevice(account.privateKey, {
    account: account.publicKey, device: device.publicKey, deviceX25519: x25519.publicKey, issuedAt: Date.now(),
  });
  const conn = new RelayConnection(origin, { device, certificate });
  conn.start();
  try {
    const call = (/** @type {string} */ op, /** @type {object} */ args = {}) => conn.request(hostId, op, args);
    await call('hello', { cert: b64e(certificate), name: 'New device (linking)' });
    return await linkNewDevice({ call, hostId, me: b64e(device.publicKey), link, typeCode });
  } finally {
    conn.stop();
  }
}
