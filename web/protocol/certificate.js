/**
 * Device certificates (docs/protocol.md section 3, hearth/keys.py): the account key's
 * signature binding one device's Ed25519 and X25519 keys to the account. 169 bytes:
 *
 *   0    1  version 0x01
 *   1   32  account Ed25519 public key
 *   33  32  device Ed25519 public key
 *   65  32  device X25519 public key
 *   97   8  issued-at ms, big-endian unsigned
 *   105 64  Ed25519 signature by the account key over bytes 0-104 (context device-cert)
 * @module
 */

import { concat, i2osp } from '../crypto/bytes.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { Context, signFor, verifyFor } from '../crypto/signing.js';

export const CERT_VERSION = 1;
export const CERT_PAYLOAD_SIZE = 105;
export const CERT_SIZE = 169;

/**
 * @typedef {object} CertificateFields
 * @property {Uint8Array} account account Ed25519 public key
 * @property {Uint8Array} device device Ed25519 public key
 * @property {Uint8Array} deviceX25519 device X25519 public key
 * @property {number} issuedAt ms since the epoch
 */

/**
 * The 105 signed bytes of a certificate.
 * @param {CertificateFields} fields
 * @returns {Uint8Array}
 */
export function certificatePayload({ account, device, deviceX25519, issuedAt }) {
  for (const [name, key] of /** @type {const} */ ([['account', account], ['device', device],
    ['deviceX25519', deviceX25519]])) {
    if (key.length !== 32) throw new RangeError(`${name} key must be 32 bytes, got ${key.length}`);
  }
  return concat(Uint8Array.of(CERT_VERSION), account, device, deviceX25519, i2osp(issuedAt, 8));
}

/**
 * Have the account key certify a device: the 169-byte certificate.
 * @param {CryptoKey} accountPrivateKey
 * @param {CertificateFields} fields
 * @returns {Promise<Uint8Array>}
 */
export async function certifyDevice(accountPrivateKey, fields) {
  const payload = certificatePayload(fields);
  return concat(payload, await signFor(accountPrivateKey, Context.DEVICE_CERT, payload));
}

/**
 * Parse and verify a certificate; HearthError bad_certificate if either fails.
 * @param {Uint8Array} raw
 * @returns {Promise<CertificateFields>}
 */
export async function openCertificate(raw) {
  if (raw.length !== CERT_SIZE) {
    throw new HearthError('bad_certificate', `cert must be ${CERT_SIZE} bytes, got ${raw.length}`);
  }
  if (raw[0] !== CERT_VERSION) {
    throw new HearthError('bad_certificate', `cert version ${raw[0]} is not ${CERT_VERSION}`);
  }
  const payload = raw.slice(0, CERT_PAYLOAD_SIZE);
  try {
    await verifyFor(raw.slice(1, 33), Context.DEVICE_CERT, payload, raw.slice(CERT_PAYLOAD_SIZE));
  } catch (e) {
    if (e instanceof HearthError && e.code === ErrorCode.BAD_SIGNATURE) {
      throw new HearthError('bad_certificate', 'device-cert signature does not verify');
    }
    throw e;
  }
  const issuedAt = Number(new DataView(raw.buffer, raw.byteOffset + 97, 8).getBigUint64(0));
  return {
    account: raw.slice(1, 33),
    device: raw.slice(33, 65),
    deviceX25519: raw.slice(65, 97),
    issuedAt,
  };
}
