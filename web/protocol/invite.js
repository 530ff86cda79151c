/**
 * Invite links and owner claims (docs/protocol.md section 8, hearth/invite_link.py).
 *
 * ``<relay origin>/#/join/<host id>/<secret>`` joins a space; ``.../#/claim/...`` makes its
 * holder a host owner. The secret is the 32-byte seed of an Ed25519 key and lives only
 * in the URL fragment, which browsers never send to a server. The host stores only its
 * public key; redeeming sends a proof: the secret's signature over
 * ``host id (UTF-8) || redeeming device key`` under context invite, so a proof the
 * relay copies names the device that made it and is useless to anyone else.
 * @module
 */

import { b64d, b64e, concat, utf8 } from '../crypto/bytes.js';
import { importSeed } from '../crypto/ed25519.js';
import { UserError } from './errors.js';
import { publicKeyFromHostId } from './host_id.js';
import { Context, signFor } from '../crypto/signing.js';

/** @typedef {'join' | 'claim'} InviteKind */

/**
 * @typedef {object} InviteLink
 * @property {string} origin the relay's origin, e.g. https://chat.example.org
 * @property {InviteKind} kind
 * @property {string} hostId
 * @property {string} secret base64url of the 32-byte seed
 */

/** An error whose message can be shown to a person as it is. */
export class InviteLinkError extends UserError {}

/** @returns {string} a fresh secret (base64url of 32 random bytes) */
export function newInviteSecret() {
  return b64e(crypto.getRandomValues(new Uint8Array(32)));
}

/** @param {string} secret */
async function inviteKey(secret) {
  return importSeed(b64d(secret, { field: 'invite secret', size: 32 }));
}

/**
 * The public half of a secret: what the host stores (base64url).
 * @param {string} secret
 * @returns {Promise<string>}
 */
export async function invitePublicKey(secret) {
  return b64e((await inviteKey(secret)).publicKey);
}

/**
 * Proof that ``device`` holds the secret, valid for ``hostId`` only (base64url).
 * @param {string} secret
 * @param {string} hostId
 * @param {Uint8Array} device the redeeming device's Ed25519 public key
 * @returns {Promise<string>}
 */
export async function proveInvite(secret, hostId, device) {
  const { privateKey } = await inviteKey(secret);
  return b64e(await signFor(privateKey, Context.INVITE, concat(utf8(hostId), device)));
}

/**
 * The link text for an invite or claim.
 * @param {InviteLink} link
 * @returns {string}
 */
export function formatInviteLink({ origin, kind, hostId, secret }) {
  return `${origin.replace(/\/+$/, '')}/#/${kind}/${hostId}/${secret}`;
}

/**
 * Parse a pasted or opened link; InviteLinkError with a message fit for a person.
 * @param {string} text
 * @returns {Promise<InviteLink>}
 */
export async function parseInviteLink(text) {
  const trimmed = text.trim();
  const at = trimmed.indexOf('#/');
  const base = at < 0 ? '' : trimmed.slice(0, at);
  const [kind, hostId, secret, ...rest] = at < 0 ? [] : trimmed.slice(at + 2).split('/');
  let origin = '';
  try {
    origin = new URL(base).origin;
  } catch {
    origin = '';
  }
  if (!origin.startsWith('http') || (kind !== 'join' && kind !== 'claim') || !hostId || !secret
      || rest.length) {
    throw new InviteLinkError('That is not a Hearth invite link. A link looks like '
      + 'https://chat.example.org/#/join/… — copy the whole link and try again.');
  }
  try {
    await publicKeyFromHostId(hostId);
  } catch {
    throw new InviteLinkError('This link is damaged: the host id in it does not match its '
      + 'checksum. Copy the whole link again.');
  }
  try {
    b64d(secret, { size: 32 });
  } catch {
    throw new InviteLinkError('This link is damaged: its secret is incomplete. '
      + 'Copy the whole link again.');
  }
  return { origin, kind, hostId, secret };
}
