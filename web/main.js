/**
 * How a tab starts Hearth (the page's entry point; app.js is what then runs). With no
 * identity yet: the welcome screen, or linking this browser to an account or restoring
 * one (ui/onboarding.js). Then: as the owner of the device when this tab gets the lock
 * (identity/tab_lock.js), else as a follower of the tab that has it -- standing in line
 * for the lock, so that when the owner's page goes this tab starts an owning App that
 * keeps its view and unsent text (App.handOver).
 *
 * Invariants: one App runs per tab at a time (a promoted follower stops its own before
 * starting the owning one); keys the browser lost are said, never silently replaced;
 * an invite, claim or link secret leaves the address bar once used.
 * @module
 */

import { App, root } from './app.js';
import { saveRecovery } from './e2e/recovery_store.js';
import { createIdentity, forgetIdentity, KeysLostError, loadIdentity, requestPersistence } from './identity/identity.js';
import { put } from './identity/db.js';
import { tryOwnDevice, waitToOwnDevice } from './identity/tab_lock.js';
import { humanMessage } from './protocol/errors.js';
import { h, replace } from './ui/dom.js';
import { showKeysLost, showOtherTab, showWelcome } from './ui/screens.js';
import { showLinkScreen, showRestoreScreen } from './ui/onboarding.js';
import { parseLinkAddress, receiveAccount } from './e2e/new_device.js';
import { open as openIdentityBackup } from './crypto/identity_backup.js';
import { FollowerLink } from './tabs/follower.js';
import { toast } from './ui/toast.js';

/** @typedef {import('./app.js').HandOver} HandOver */

/**
 * This browser's identity, or null if there is none yet; lost keys are shown here.
 * @returns {Promise<import('./identity/identity.js').Identity | null | undefined>}
 *   undefined: the keys were lost (the screen says so)
 */
async function identityOrLost() {
  try {
    return await loadIdentity();
  } catch (e) {
    if (e instanceof KeysLostError) {
      showKeysLost(root, { startOver: async () => { await forgetIdentity(); location.reload(); } });
      return undefined;
    }
    throw e;
  }
}

/** Start Hearth in this tab: as the owner of the device, or following the tab that is. */
async function boot() {
  window.addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    toast(humanMessage(e.reason), 'error');
  });
  /**
   * @param {{release: () => void}} ownership
   * @param {HandOver} [handOver]
   */
  const run = async (ownership, handOver) => {
    let identity = await identityOrLost();
    if (identity === undefined) return;
    if (!identity) {
      const invited = /#\/join\//.test(location.hash) ? 'join' : /#\/claim\//.test(location.hash) ? 'claim' : null;
      const linking = /#\/link\//.test(location.hash) ? location.href : '';
      /** @param {'link' | 'restore'} which */
      const other = async (which) => {
        const back = () => location.reload();
        if (which === 'link') {
          await showLinkScreen(root, { address: linking, back, link: async (name, text, typeCode, progress) => {
            const address = await parseLinkAddress(text);
            const { accountSeed, recovery } = await receiveAccount(address, typeCode);
            progress('Linked. Setting up this browser…');
            identity = await createIdentity(name, accountSeed);
            await saveRecovery(recovery);
            await put('hosts', [{ hostId: address.hostId, origin: address.origin, label: '' }]);
            history.replaceState(null, '', location.pathname + location.search);
          } });
        } else {
          await showRestoreScreen(root, { back, restore: async (name, file, passphrase) => {
            const { accountSeed, recovery } = await openIdentityBackup(file, passphrase);
            identity = await createIdentity(name, accountSeed);
            await saveRecovery(recovery);
          } });
        }
      };
      if (linking) await other('link');
      else await showWelcome(root, { invited, create: async (name) => { identity = await createIdentity(name); }, other });
    }
    if (!identity) return;
    const app = new App(identity, { ownership });
    /** @type {any} */ (window).hearth = app; // for debugging from the console
    app.persisted = await requestPersistence();
    await app.start(handOver);
    await app.handleLink(location.href);
  };
  const ownership = await tryOwnDevice();
  if (ownership) {
    await run(ownership);
    return;
  }
  // A follower: wait for the owner to serve (it may be on its welcome screen), and stand
  // in line for the lock, which the browser grants once the owner's page is gone.
  const link = new FollowerLink();
  showOtherTab(root);
  /** @type {App | null} */
  let app = null;
  let promoted = false;
  void waitToOwnDevice().then(async (owned) => {
    promoted = true;
    const handOver = app?.handOver();
    if (app) app.stop();
    else link.close();
    await run(owned, handOver);
  });
  await link.ready;
  const identity = promoted ? null : await identityOrLost();
  if (!identity || promoted) return;
  app = new App(identity, { link });
  /** @type {any} */ (window).hearth = app;
  app.persisted = await requestPersistence();
  await app.start();
  await app.handleLink(location.href);
}

void boot().catch((e) => {
  console.error(e);
  replace(root, h('div', { class: 'screen' }, h('div', { class: 'screen-card' },
    h('h1', { text: 'Hearth could not start' }),
    h('p', { text: 'This browser is missing something Hearth needs (IndexedDB storage or modern WebCrypto with Ed25519 and X25519). Try an up-to-date Chrome, Edge, Firefox or Safari, outside private browsing.' }))));
});

