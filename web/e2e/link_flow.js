/**
 * Device linking over the host's link slot (``link.*`` ops); the twin of
 * hearth/e2e/link_flow.py, the crypto in crypto/linking.js.
 *
 * The existing device opens a slot and shows its code; the new device, connected with a
 * throwaway identity (it has no account yet), types the code. Both then run the
 * exchange; the existing device shows an 8-digit code that the user types into the new
 * device, and confirms on the existing device once the new one accepted it. Only then
 * does the account secret travel, sealed to the new device's key.
 *
 * Invariant: each side takes the first message of each type that fits its own state and
 * ignores its own posts; a message that does not fit is a man in the middle or a race,
 * and ends the exchange with link_mismatch before anything secret is sent.
 * @module
 */

import { b64d, b64e } from '../crypto/bytes.js';
import { ErrorCode, HearthError } from '../crypto/errors.js';
import { ExistingDeviceLink, NewDeviceLink } from '../crypto/linking.js';

const POLL_MS = 200;
const TIMEOUT_MS = 10 * 60_000; // the slot's own lifetime

/**
 * @typedef {(op: string, args?: object) => Promise<Record<string, any>>} Call
 * @typedef {import('../crypto/recovery.js').Recovery} Recovery
 */

/**
 * The first message of type ``tag`` not posted by ``me`` that ``fits``.
 * @param {Call} call
 * @param {string} link
 * @param {string} me this device, base64url
 * @param {number} tag
 * @param {{fits?: (msg: Uint8Array) => boolean, signal?: AbortSignal}} [options]
 * @returns {Promise<Uint8Array>}
 */
async function next(call, link, me, tag, { fits = () => true, signal } = {}) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    signal?.throwIfAborted();
    for (const item of (await call('link.read', { link })).msgs) {
      const msg = b64d(item.msg, { field: 'msg' });
      if (item.dev !== me && msg[0] === tag && fits(msg)) return msg;
    }
    if (Date.now() > deadline) throw new HearthError(ErrorCode.LINK_MISMATCH, `no link message of type ${tag} in time on ${link}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * A fresh link code for the existing device to show.
 * @param {Call} call
 * @returns {Promise<string>}
 */
export async function openLink(call) {
  return String((await call('link.open')).link);
}

/**
 * Run the existing device's side: ``showCodeAndConfirm(code)`` shows the 8-digit code
 * and resolves with whether the user says the new device accepted it.
 * @param {{call: Call, hostId: string, me: string, link: string, accountSeed: Uint8Array,
 *   recovery: Recovery, showCodeAndConfirm: (code: string) => Promise<boolean>,
 *   signal?: AbortSignal}} options
 * @returns {Promise<void>}
 */
export async function linkExistingDevice({ call, hostId, me, link, accountSeed, recovery,
  showCodeAndConfirm, signal }) {
  const side = await ExistingDeviceLink.create(hostId, link);
  const m1 = await next(call, link, me, 1, { signal });
  await call('link.post', { link, msg: b64e(side.onCommit(m1)) });
  await side.onKey(await next(call, link, me, 3, { signal }));
  const confirmed = await showCodeAndConfirm(side.code);
  // Unconfirmed, transfer() refuses (link_mismatch) before it looks at a confirmation.
  const m4 = confirmed ? await next(call, link, me, 4, { signal }) : new Uint8Array(0);
  const m5 = await side.transfer(confirmed, m4, accountSeed, recovery);
  await call('link.post', { link, msg: b64e(m5) });
}

/**
 * Run the new device's side over a throwaway identity's ``call``. ``typeCode(again)``
 * resolves with what the user typed from the existing device's screen (``again``: the
 * previous attempt did not match; three attempts, then link_mismatch). Resolves with
 * the account seed and recovery secret.
 * @param {{call: Call, hostId: string, me: string, link: string,
 *   typeCode: (again: boolean) => Promise<string>, signal?: AbortSignal}} options
 * @returns {Promise<{accountSeed: Uint8Array, recovery: Recovery}>}
 */
export async function linkNewDevice({ call, hostId, me, link, typeCode, signal }) {
  const side = await NewDeviceLink.create(hostId, link);
  const m1 = await side.commitMessage();
  await call('link.post', { link, msg: b64e(m1) });
  // The first answer to *our* commitment: anything else answers someone else.
  const commit = m1.subarray(1);
  const m2 = await next(call, link, me, 2, { signal,
    fits: (m) => m.subarray(1, 33).every((b, i) => b === commit[i]) });
  await call('link.post', { link, msg: b64e(await side.onReveal(m2)) });
  let m4;
  for (let attempt = 0; ; attempt++) {
    try {
      m4 = await side.confirm(await typeCode(attempt > 0));
      break;
    } catch (e) {
      if (!(e instanceof HearthError && e.code === ErrorCode.LINK_MISMATCH) || attempt >= 2) throw e;
    }
  }
  await call('link.post', { link, msg: b64e(m4) });
  return side.onSecrets(await next(call, link, me, 5, { signal }));
}
