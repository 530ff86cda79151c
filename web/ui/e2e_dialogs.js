/**
 * Dialogs of end-to-end encryption on a device already signed in: linking a new device
 * (the existing side), a contact's safety number, and exporting the identity backup.
 * @module
 */

import { b64d, toHex } from '../crypto/bytes.js';
import { seal as sealIdentityBackup } from '../crypto/identity_backup.js';
import { grouped, qrPayload, safetyNumber } from '../crypto/safety.js';
import { linkExistingDevice, openLink } from '../e2e/link_flow.js';
import { unsealAccountSeed } from '../identity/identity.js';
import { humanMessage } from '../protocol/errors.js';
import { field, openDialog, plainError } from './dialog.js';
import { h, replace, shortKey } from './dom.js';
import { qrSvg } from './qr.js';
import { copyText, toast } from './toast.js';

/**
 * @typedef {import('../app.js').App} App
 * @typedef {import('../app.js').Member} Member
 */

/**
 * The address a new device opens (or pastes) to join the link slot.
 * @param {string} origin
 * @param {string} hostId
 * @param {string} link
 * @returns {string}
 */
export function linkAddress(origin, hostId, link) {
  return `${origin}/#/link/${hostId}/${link}`;
}

/**
 * Link a new device from this one: show the link address, then the 8-digit code, and
 * send the account secrets only after the user confirms the new device accepted it.
 * @param {App} app
 */
export async function openLinkDevice(app) {
  const session = app.session();
  if (!session?.ready) throw plainError('Connect to a host first: linking runs through it.');
  if (!(await app.ensureRecovery())) return;
  const secure = app.secure(session.hostId);
  const stage = h('div', { class: 'link-stage', id: 'link-stage' }, h('p', { class: 'muted', text: 'Opening a link code…' }));
  const abort = new AbortController();
  const dialog = openDialog({ id: 'link-device-dialog', title: 'Link a new device', body: [stage], cancel: 'Close' });
  void dialog.then(() => abort.abort());
  try {
    const link = await openLink((op, args) => secure.call(op, args));
    const address = linkAddress(session.conn.origin, session.hostId, link);
    const input = /** @type {HTMLInputElement} */ (h('input', { class: 'input mono', id: 'link-address', readonly: true, value: address }));
    replace(stage,
      h('p', { text: 'On the new device, open this address (or choose “I already use Hearth” and paste it). It works for 10 minutes.' }),
      h('div', { class: 'copy-row' }, input, h('button', { type: 'button', class: 'button', text: 'Copy', onclick: () => void copyText(address, input) })),
      h('p', { class: 'muted', text: 'Waiting for the new device…' }));
    const seed = await unsealAccountSeed();
    try {
      await linkExistingDevice({
        call: (op, args) => secure.call(op, args), hostId: session.hostId, me: app.identity.deviceId,
        link, accountSeed: seed, recovery: /** @type {any} */ (app.recovery), signal: abort.signal,
        showCodeAndConfirm: (code) => new Promise((resolve) => {
          replace(stage,
            h('p', { text: 'Type this code on the new device:' }),
            h('p', { class: 'link-code', id: 'link-code', text: `${code.slice(0, 4)} ${code.slice(4)}` }),
            h('p', { text: 'Did the new device accept it? Confirm only if it says the code is right: then it receives your account.' }),
            h('div', { class: 'dialog-actions' },
              h('button', { type: 'button', class: 'button', text: 'It did not', onclick: () => resolve(false) }),
              h('button', { type: 'button', class: 'button primary', id: 'link-confirm', text: 'The new device accepted the code',
                onclick: async () => {
                  replace(stage, h('p', { class: 'muted', text: 'Backing up your keys and sending your account to the new device…' }));
                  // The new device reads earlier history through the key backup: bring it up to date first.
                  await secure.backup().catch((e) => console.warn('hearth: key backup before linking', e));
                  resolve(true);
                } })));
        }),
      });
    } finally {
      seed.fill(0);
    }
    replace(stage, h('p', { class: 'ok-text', id: 'link-done', text: 'The new device is linked to your account. It can read your earlier messages through your key backup.' }));
  } catch (e) {
    if (abort.signal.aborted) return;
    const text = e instanceof Error && /link_mismatch/.test(e.message)
      ? 'Linking stopped: the codes did not match, so nothing was sent. Someone may be in the middle — start again, and compare the code carefully.'
      : humanMessage(e);
    replace(stage, h('p', { class: 'form-error', text }));
  }
}

/**
 * A contact's safety number: the same 60 digits on both sides when each holds the
 * other's real account key. Marking it verified is remembered for exactly this key.
 * @param {App} app
 * @param {Member} member
 */
export async function openSafetyNumber(app, member) {
  const name = member.name ?? shortKey(member.acct);
  const mine = app.identity.accountPublic;
  const theirs = b64d(member.acct, { field: 'acct', size: 32 });
  const number = await safetyNumber(mine, theirs);
  const payload = qrPayload(mine, theirs);
  const handle = `${app.current.hostId}:${member.name ?? member.acct}`;
  await app.trust.observe(handle, member.acct);
  const verified = app.trust.isVerified(handle, member.acct);
  return openDialog({
    id: 'safety-dialog',
    title: `Safety number with ${name}`,
    body: [
      h('p', { text: `Compare these digits with ${name}, in person or over a call you trust. If they match on both screens, nobody — not the host, not the relay — is in the middle.` }),
      h('div', { class: 'safety-codes' },
        qrSvg(payload, { id: 'safety-qr-code', label: `QR code of your safety number with ${name}` }),
        h('p', { class: 'safety-number', id: 'safety-number', text: grouped(number) })),
      h('p', { class: 'fine', text: 'The QR code holds both account keys, for scanning instead of reading digits. The same code as text, for when scanning is not possible:' }),
      h('code', { class: 'mono small-code safety-payload', id: 'safety-qr', text: toHex(payload) }),
      h('p', { class: verified ? 'ok-text' : 'muted', id: 'safety-status', text: verified ? `You verified ${name}'s key.` : `Not verified yet.` }),
    ],
    submit: verified ? undefined : 'They match: mark as verified',
    cancel: 'Close',
    onSubmit: async () => {
      await app.trust.markVerified(handle, member.acct);
      toast(`${name} is verified.`, 'ok');
      app.render();
    },
  });
}

/**
 * Export the identity backup: the account key and recovery secret in one file under a
 * passphrase, for when every device is lost.
 * @param {App} app
 */
export async function openExportIdentity(app) {
  if (!(await app.ensureRecovery())) return;
  return openDialog({
    id: 'identity-backup-dialog',
    title: 'Download an identity backup',
    body: [
      h('p', { text: 'This file holds your account key and recovery secret, locked with a passphrase you choose now. With it you can get your account back on a new browser even if every device is lost. Keep it somewhere safe; anyone with the file and the passphrase is you.' }),
      field('Passphrase for the file', { name: 'pass', type: 'password', required: true, autocomplete: 'new-password' }),
      field('Passphrase again', { name: 'pass2', type: 'password', required: true, autocomplete: 'new-password' }),
    ],
    submit: 'Download backup',
    onSubmit: async (form) => {
      const pass = /** @type {HTMLInputElement} */ (form.elements.namedItem('pass')).value;
      const again = /** @type {HTMLInputElement} */ (form.elements.namedItem('pass2')).value;
      if ([...pass].length < 10) throw plainError('Choose a passphrase of at least 10 characters.');
      if (pass !== again) throw plainError('The two passphrases differ. Type the same one twice.');
      const seed = await unsealAccountSeed();
      let file;
      try {
        file = await sealIdentityBackup(pass, seed, /** @type {any} */ (app.recovery));
      } finally {
        seed.fill(0);
      }
      const a = h('a', { href: URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' })),
        download: `hearth-identity-${app.identity.name.replace(/[^\p{L}\p{N}_-]+/gu, '_')}.hearthid` });
      document.body.append(a);
      a.click();
      a.remove();
      toast('Identity backup downloaded.', 'ok');
    },
  });
}
