/**
 * Every dialog of the app: hosts, spaces, channels, members, invites, account.
 * Each runs its signed request inside the dialog; a refusal is shown there in plain
 * words and the dialog stays open (ui/dialog.js).
 * @module
 */

import { icon } from './icons.js';
import { humanMessage } from '../protocol/errors.js';
import { formatInviteLink, invitePublicKey, newInviteSecret } from '../protocol/invite.js';
import { openDialog, field, formValue, plainError } from './dialog.js';
import { h, replace, shortKey } from './dom.js';
import { copyText, toast } from './toast.js';
import { openExportIdentity, openLinkDevice } from './e2e_dialogs.js';
import { openCertificate } from '../protocol/certificate.js';
import { b64d, b64e } from '../crypto/bytes.js';

/**
 * @typedef {import('../app.js').App} App
 * @typedef {import('../chat/host_session.js').HostSession} HostSession
 * @typedef {import('../chat/host_session.js').Space} Space
 * @typedef {import('../chat/host_session.js').Channel} Channel
 * @typedef {import('../app.js').Member} Member
 */

const NAME = { name: 'name', required: true, maxlength: 100 };

/** @param {App} app */
function current(app) {
  const session = app.session();
  if (!session) throw plainError('Choose a host first.');
  return session;
}

/** @param {App} app */
export function openAddHostDialog(app) {
  return openDialog({
    id: 'add-host-dialog',
    title: 'Add a host',
    body: [
      h('p', { text: 'Paste the invite link someone sent you — it is all you need. If you were given a host id instead, paste that.' }),
      field('Invite link or host id', { name: 'target', required: true, placeholder: 'https://…/#/join/… or a 56-character host id' }),
    ],
    submit: 'Add',
    onSubmit: async (form) => {
      const target = formValue(form, 'target');
      if (/#\/(join|claim)\//.test(target)) return target; // followed once the dialog is gone
      await app.addHost(target.toLowerCase());
      toast('Host added.', 'ok');
      return undefined;
    },
  }).then((link) => {
    // handleLink says its own outcome; it moves the view, which a modal must not cover.
    if (typeof link === 'string') void app.handleLink(link);
  });
}

/** @param {App} app */
export async function openCreateSpace(app) {
  const created = /** @type {{session: HostSession, space: string} | undefined} */ (await openDialog({
    id: 'create-space-dialog', title: 'Create a space',
    body: [h('p', { text: 'A space has its own members and channels. It starts with a #general channel.' }),
      field('Space name', { ...NAME, placeholder: 'e.g. Book club' })],
    submit: 'Create space',
    onSubmit: async (form) => {
      const session = current(app);
      const r = await session.call('space.create', { name: formValue(form, 'name') });
      return { session, space: r.space.id };
    },
  }));
  if (created) await enterSpace(app, created.session, created.space);
}

/**
 * Enter a space once its dialog is closed (``App.enterSpace``); a failure is a toast.
 * @param {App} app
 * @param {HostSession} session
 * @param {string} space
 */
async function enterSpace(app, session, space) {
  await app.enterSpace(session, space).catch((e) => toast(humanMessage(e), 'error'));
}

/** @param {App} app @param {Space} space */
export function openRenameSpace(app, space) {
  return openDialog({
    id: 'rename-space-dialog', title: 'Rename space',
    body: [field('Space name', { ...NAME, value: space.name })],
    submit: 'Save',
    onSubmit: async (form) => {
      const session = current(app);
      await session.call('space.rename', { space: space.id, name: formValue(form, 'name') });
      await session.refreshSpaces();
    },
  });
}

/** @param {App} app @param {Space} space */
export function openDeleteSpace(app, space) {
  return openDialog({
    id: 'delete-space-dialog', title: `Delete ${space.name}?`,
    body: [h('p', { text: 'The space, all its channels and their history are deleted for everyone, and every member loses access. This cannot be undone.' })],
    submit: 'Delete space', danger: true,
    onSubmit: async () => {
      const session = current(app);
      await session.call('space.delete', { space: space.id });
      await session.refreshSpaces();
    },
  });
}

/** @param {App} app @param {Space} space */
export function openLeaveSpace(app, space) {
  return openDialog({
    id: 'leave-space-dialog', title: `Leave ${space.name}?`,
    body: [h('p', { text: 'You stop receiving its messages. To come back you need a new invite.' })],
    submit: 'Leave space', danger: true,
    onSubmit: async () => {
      const session = current(app);
      await session.call('space.leave', { space: space.id });
      await session.refreshSpaces();
    },
  });
}

/** @param {App} app @param {Space} space */
export function openCreateChannel(app, space) {
  return openDialog({
    id: 'create-channel-dialog', title: `New channel in ${space.name}`,
    body: [field('Channel name', { ...NAME, placeholder: 'e.g. announcements' })],
    submit: 'Create channel',
    onSubmit: async (form) => {
      const session = current(app);
      const r = await session.call('channel.create', { space: space.id, name: formValue(form, 'name') });
      await session.refreshSpaces();
      app.select(session.hostId, space.id, r.channel.id);
    },
  });
}

/** @param {App} app @param {Space} space @param {Channel} channel */
export function openRenameChannel(app, space, channel) {
  return openDialog({
    id: 'rename-channel-dialog', title: 'Rename channel',
    body: [field('Channel name', { ...NAME, value: channel.name })],
    submit: 'Save',
    onSubmit: async (form) => {
      const session = current(app);
      await session.call('channel.rename', { space: space.id, chan: channel.id, name: formValue(form, 'name') });
      await session.refreshSpaces();
    },
  });
}

/** @param {App} app @param {Space} space @param {Channel} channel */
export function openDeleteChannel(app, space, channel) {
  return openDialog({
    id: 'delete-channel-dialog', title: `Delete #${channel.name}?`,
    body: [h('p', { text: 'The channel and all its messages are deleted for everyone. This cannot be undone.' })],
    submit: 'Delete channel', danger: true,
    onSubmit: async () => {
      const session = current(app);
      await session.call('channel.delete', { space: space.id, chan: channel.id });
      await session.refreshSpaces();
    },
  });
}

/** @param {App} app @param {Space} space @param {Member} member */
export function openRemoveMember(app, space, member) {
  const name = member.name ?? shortKey(member.acct);
  return openDialog({
    id: 'remove-member-dialog', title: `Remove ${name}?`,
    body: [h('p', { text: `${name} loses access to ${space.name} at once and receives nothing more from it.` })],
    submit: 'Remove', danger: true,
    onSubmit: async () => {
      // Through the E2E layer: the remover starts new sessions at once, so nothing sent
      // from now on opens with a key the removed member holds.
      await app.secure(current(app).hostId).removeMember(space.id, member.acct);
      await app.refreshMembers();
    },
  });
}

/** @param {App} app @param {Space} space @param {Member} member */
export function openChangeRole(app, space, member) {
  const name = member.name ?? shortKey(member.acct);
  return openDialog({
    id: 'change-role-dialog', title: `Role of ${name}`,
    body: [roleSelect('role', 'owner', member.role),
      h('p', { class: 'fine', text: 'Admins manage channels, invites and members. Owners also rename or delete the space and set roles.' })],
    submit: 'Save',
    onSubmit: async (form) => {
      await current(app).call('member.role', { space: space.id, acct: member.acct, role: formValue(form, 'role') });
      await app.refreshMembers();
    },
  });
}

/**
 * @param {string} name
 * @param {string} highest the caller's own role: nobody grants more than they hold
 * @param {string} [selected]
 */
function roleSelect(name, highest, selected = 'member') {
  const roles = highest === 'owner' ? ['member', 'admin', 'owner'] : ['member', 'admin'];
  return h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Role' }),
    h('select', { class: 'input', name }, ...roles.map((r) => h('option', { value: r, selected: r === selected ? true : null, text: r }))));
}

/** @param {App} app @param {Space} space */
export function openInviteDialog(app, space) {
  const result = h('div', { class: 'invite-result', hidden: true });
  const linkPanel = h('div', { class: 'tab-panel', dataset: { tab: 'link' } },
    h('p', { text: `Anyone with the link can join ${space.name}. The link carries its own secret: the host and relay never see it.` }),
    h('div', { class: 'field-row' },
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Expires after' }),
        h('select', { class: 'input', name: 'ttl' },
          h('option', { value: '3600', text: '1 hour' }), h('option', { value: '86400', text: '1 day' }),
          h('option', { value: '604800', selected: true, text: '7 days' }), h('option', { value: '2592000', text: '30 days' }))),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Can be used' }),
        h('select', { class: 'input', name: 'uses' },
          h('option', { value: '1', text: 'once' }), h('option', { value: '5', text: '5 times' }),
          h('option', { value: '25', selected: true, text: '25 times' }), h('option', { value: '100', text: '100 times' }))),
      space.role === 'member' ? null : roleSelect('role', space.role === 'owner' ? 'admin' : 'member')),
    result);
  const keyResult = h('div', { class: 'invite-result', hidden: true });
  const keyPanel = h('div', { class: 'tab-panel', dataset: { tab: 'key' }, hidden: true },
    h('p', { text: 'Invite one person by their account key (they find it under Account & devices).' }),
    field('Their account key', { name: 'acct', placeholder: '43 characters', maxlength: 43 }),
    roleSelect('keyrole', space.role === 'owner' ? 'admin' : 'member'),
    keyResult);
  let tab = 'link';
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    ...[['link', 'Invite link'], ['key', 'By account key']].map(([id, label]) => h('button', {
      type: 'button', role: 'tab', class: `tab${id === 'link' ? ' active' : ''}`, dataset: { tab: id }, text: label,
      onclick: (/** @type {MouseEvent} */ e) => {
        tab = id;
        for (const b of tabs.children) b.classList.toggle('active', b === e.currentTarget);
        linkPanel.hidden = id !== 'link';
        keyPanel.hidden = id !== 'key';
      },
    })));
  return openDialog({
    id: 'invite-dialog', title: `Invite people to ${space.name}`,
    body: [tabs, linkPanel, keyPanel],
    submit: 'Create invite', cancel: 'Done',
    onSubmit: async (form) => {
      const session = current(app);
      if (tab === 'key') {
        const acct = formValue(form, 'acct');
        if (!/^[A-Za-z0-9_-]{43}$/.test(acct)) throw plainError('An account key is 43 letters, digits, - and _. Copy it again from their Account panel.');
        await session.call('invite.key', { space: space.id, acct, role: formValue(form, 'keyrole') || 'member' });
        const code = /** @type {HTMLInputElement} */ (h('input', { class: 'input mono', readonly: true, value: `${session.hostId}/${space.id}` }));
        replace(keyResult, h('p', { text: 'Invitation recorded. Send them this space code; they accept it under “Accept an invitation” once they have added this host:' }),
          h('div', { class: 'copy-row' }, code, h('button', { type: 'button', class: 'button', text: 'Copy', onclick: () => void copyText(code.value, code) })));
        keyResult.hidden = false;
        throw keepOpen;
      }
      const secret = newInviteSecret();
      await session.call('invite.link', {
        space: space.id, pk: await invitePublicKey(secret), ttl_s: Number(formValue(form, 'ttl')),
        uses: Number(formValue(form, 'uses')), role: formValue(form, 'role') || 'member',
      });
      const link = formatInviteLink({ origin: session.conn.origin, kind: 'join', hostId: session.hostId, secret });
      const input = /** @type {HTMLInputElement} */ (h('input', { class: 'input mono', id: 'invite-link', readonly: true, value: link }));
      replace(result, h('p', { class: 'ok-text', text: 'Invite link ready. Send it to the people you want here:' }),
        h('div', { class: 'copy-row' }, input, h('button', { type: 'button', class: 'button primary', id: 'copy-invite', text: 'Copy', onclick: () => void copyText(link, input) })));
      result.hidden = false;
      input.select();
      throw keepOpen;
    },
  });
}

/** Thrown by an action that succeeded but wants its dialog to stay open with a result. */
const keepOpen = Object.assign(plainError(''), { keepOpen: true });

/** @param {App} app */
export async function openAcceptInvite(app) {
  const joined = /** @type {{session: HostSession, space: string} | undefined} */ (await openDialog({
    id: 'accept-invite-dialog', title: 'Accept an invitation',
    body: [h('p', { text: 'If someone invited your account key, they gave you a space code (host id/space). Paste it here.' }),
      field('Space code', { name: 'code', required: true, placeholder: 'host-id/space-id' })],
    submit: 'Accept',
    onSubmit: async (form) => {
      const [hostId, space] = formValue(form, 'code').split('/');
      if (!hostId || !space) throw plainError('A space code looks like host-id/space-id. Copy it again.');
      const session = await app.addHost(hostId);
      const r = await session.call('invite.accept', { space });
      toast(`You joined ${r.space.name}.`, 'ok');
      return { session, space: r.space.id };
    },
  }));
  if (joined) await enterSpace(app, joined.session, joined.space);
}

/** @param {App} app */
export function openAccountDialog(app) {
  const key = /** @type {HTMLInputElement} */ (h('input', { class: 'input mono', id: 'account-key', readonly: true, value: app.identity.account }));
  const devices = h('ul', { class: 'device-list', id: 'device-list' }, h('li', { class: 'muted', text: 'Loading devices…' }));
  const session = app.session();
  const loadDevices = async () => {
    if (!session?.ready) {
      replace(devices, h('li', { class: 'muted', text: 'Add a host to see your devices: each host keeps the list of devices that used it.' }));
      return;
    }
    try {
      const r = await session.call('device.list', { acct: app.identity.account });
      const certified = await Promise.all(r.devices.map(async (/** @type {any} */ d) => {
        try {
          const cert = await openCertificate(b64d(d.cert));
          return b64e(cert.account) === app.identity.account && b64e(cert.device) === d.dev;
        } catch {
          return false;
        }
      }));
      replace(devices, ...r.devices.map((/** @type {any} */ d, /** @type {number} */ i) => {
        const mine = d.dev === app.identity.deviceId;
        return h('li', { class: `device${d.revoked ? ' revoked' : ''}${certified[i] ? '' : ' uncertified'}`, dataset: { dev: d.dev } },
          icon(mine ? 'device' : 'phone'),
          h('span', { class: 'device-text' },
            h('strong', { text: mine ? 'This browser' : `Device ${shortKey(d.dev)}` }),
            certified[i] ? null : h('span', { class: 'form-error', text: 'Not approved by your account — the host may be tampering. Hearth does not encrypt to it.' }),
            h('span', { class: 'muted', text: d.revoked ? `Signed out ${new Date(d.revoked_at).toLocaleString()}` : `Added ${new Date(d.created_at).toLocaleString()}` })),
          !mine && !d.revoked ? h('button', {
            type: 'button', class: 'button small danger', text: 'Sign out',
            onclick: async () => {
              try {
                await app.secure(session.hostId).revokeDevice(d.dev);
                toast('That device is signed out.', 'ok');
                await loadDevices();
              } catch (e) {
                toast(humanMessage(e), 'error');
              }
            },
          }) : null);
      }));
    } catch (e) {
      replace(devices, h('li', { class: 'form-error', text: 'Could not load your devices from this host. Try again once connected.' }));
    }
  };
  void loadDevices();
  return openDialog({
    id: 'account-dialog', title: 'Account & devices',
    body: [
      field('Display name', { ...NAME, value: app.identity.name }),
      h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Your account key' }),
        h('div', { class: 'copy-row' }, key, h('button', { type: 'button', class: 'button', text: 'Copy', onclick: () => void copyText(app.identity.account, key) })),
        h('span', { class: 'field-hint', text: 'Share it so people can invite you by key. It is public; your private keys never leave this device.' })),
      h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'This device' }),
        h('code', { class: 'mono small-code', text: app.identity.deviceId })),
      h('h3', { class: 'section-title', text: 'Devices on this host' }),
      devices,
      h('p', { class: 'fine', text: app.persisted
        ? 'Storage: this browser promised to keep your keys.'
        : 'Storage: this browser may clear your keys if the disk runs low. Hearth will tell you if that happens.' }),
      session?.ready ? h('div', { class: 'account-actions' },
        h('button', { type: 'button', class: 'button', id: 'link-device', text: 'Link a new device', onclick: () => void openLinkDevice(app).catch((e) => toast(humanMessage(e), 'error')) })) : null,
      h('h3', { class: 'section-title', text: 'Recovery and backups' }),
      h('p', { id: 'recovery-status', class: app.recovery ? 'ok-text' : 'muted', text: app.recovery
        ? 'Account recovery is on: your message keys are backed up, encrypted, on each host. Your recovery key or passphrase unlocks them on a new device.'
        : 'Account recovery is not set up on this device yet. Hearth asks for it before your first message.' }),
      h('div', { class: 'account-actions' },
        app.recovery || !session?.ready ? null : h('button', { type: 'button', class: 'button', id: 'setup-recovery', text: 'Set up recovery', onclick: () => void app.ensureRecovery().catch((e) => toast(humanMessage(e), 'error')) }),
        h('button', { type: 'button', class: 'button', id: 'export-identity', text: 'Download identity backup', onclick: () => void openExportIdentity(app).catch((e) => toast(humanMessage(e), 'error')) })),
    ],
    submit: 'Save',
    onSubmit: async (form) => {
      const name = formValue(form, 'name');
      if (name && name !== app.identity.name) await app.rename(name);
    },
  });
}


// ---- messages (docs/protocol.md section 13) ------------------------------------------

/** Timer choices, in seconds (0: off). Any other value can be typed in. */
const TIMERS = [[0, 'Off'], [300, '5 minutes'], [3600, '1 hour'], [28_800, '8 hours'],
  [86_400, '1 day'], [604_800, '1 week'], [2_419_200, '4 weeks']];
const MAX_TTL_S = 31_536_000;

/**
 * A timer in words: "1 hour", "90 seconds", "2 weeks".
 * @param {number} seconds
 * @returns {string}
 */
export function durationText(seconds) {
  const units = /** @type {Array<[number, string]>} */ ([[604_800, 'week'], [86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']]);
  const [size, unit] = units.find(([n]) => seconds % n === 0) ?? [1, 'second'];
  const n = seconds / size;
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * Channel settings (admins): the disappearing-message timer. Resolves to the channel
 * as the host now has it, or undefined if dismissed.
 * @param {{call: (op: string, args?: object) => Promise<Record<string, any>>}} session
 * @param {Space} space
 * @param {Channel} channel
 * @returns {Promise<Channel | undefined>}
 */
export async function openChannelTimer(session, space, channel) {
  const now = channel.ttl_s ?? 0;
  const preset = TIMERS.some(([s]) => s === now);
  const custom = /** @type {HTMLInputElement} */ (h('input', {
    class: 'input', type: 'number', name: 'custom', min: 1, max: MAX_TTL_S, step: 1,
    value: preset ? '' : String(now), placeholder: 'seconds',
  }));
  const select = h('select', { class: 'input', name: 'ttl', id: 'channel-ttl' },
    ...TIMERS.map(([s, label]) => h('option', { value: String(s), text: label, selected: preset && s === now ? true : null })),
    h('option', { value: 'custom', text: 'Custom…', selected: preset ? null : true }));
  const result = await openDialog({
    id: 'channel-timer-dialog', title: `#${channel.name} settings`,
    body: [
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Disappearing messages' }), select),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Custom timer (seconds)' }), custom),
      h('p', { class: 'fine', text: 'New messages disappear for everyone this long after they are sent. Messages already sent keep their timer.' }),
    ],
    submit: 'Save',
    onSubmit: async (form) => {
      const chosen = formValue(form, 'ttl');
      const ttl = chosen === 'custom' ? Number(formValue(form, 'custom')) : Number(chosen);
      if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_S) {
        throw plainError(`A custom timer is a whole number of seconds from 1 to ${MAX_TTL_S.toLocaleString('en')} (a year).`);
      }
      const r = await session.call('channel.ttl', { space: space.id, chan: channel.id, ttl_s: ttl });
      return /** @type {Channel} */ (r.channel);
    },
  });
  return /** @type {Channel | undefined} */ (result);
}

/**
 * Every version of an edited message, oldest first.
 * @param {import('../chat/conversation.js').Shown} shown
 * @param {string} author
 */
export function openEditHistory(shown, author) {
  const versions = shown.versions.map((v, i) => h('li', { class: 'version' },
    h('span', { class: 'muted', text: `${i === 0 ? 'Original' : i === shown.versions.length - 1 ? 'Current' : `Edit ${i}`} · ${new Date(v.ts).toLocaleString()}` }),
    h('p', { class: 'version-body', text: v.body })));
  return openDialog({
    id: 'edit-history-dialog', title: `Versions of ${author}’s message`,
    body: [h('ol', { class: 'version-list' }, ...versions)],
  });
}

/**
 * Ask before deleting a message for everyone; resolves true once the host deleted it.
 * @param {() => Promise<unknown>} remove
 * @param {boolean} mine
 * @returns {Promise<boolean>}
 */
export async function confirmDeleteMessage(remove, mine) {
  const done = await openDialog({
    id: 'delete-message-dialog', title: 'Delete this message?',
    body: [h('p', { text: mine
      ? 'It is deleted for everyone, with its reactions and edits. This cannot be undone.'
      : 'You are deleting another member’s message as an admin. It is deleted for everyone, with its reactions and edits. This cannot be undone.' })],
    submit: 'Delete', danger: true,
    onSubmit: async () => {
      await remove();
      return true;
    },
  });
  return done === true;
}
