/**
 * One tab owns this device (DESIGN.md section 6). The owner holds a Web Lock for as long
 * as it runs Hearth; it alone opens relay connections and advances the ratchet state --
 * two tabs advancing one sender chain would reuse message keys. Every other tab is a
 * follower that works through the owner (tabs/): it queues for the lock, and the browser
 * grants it to the first follower in line once the owner's page is gone.
 * @module
 */

const LOCK = 'hearth-device';

/**
 * @typedef {object} TabOwnership
 * @property {() => void} release give the device up
 */

/**
 * Own the device now if no other tab does.
 * @returns {Promise<TabOwnership | null>} null: another tab owns it
 */
export function tryOwnDevice() {
  return own(true);
}

/**
 * Wait in line for the device: resolves when every tab ahead of this one has closed.
 * @returns {Promise<TabOwnership>}
 */
export function waitToOwnDevice() {
  return /** @type {Promise<TabOwnership>} */ (own(false));
}

/**
 * @param {boolean} ifAvailable
 * @returns {Promise<TabOwnership | null>}
 */
function own(ifAvailable) {
  if (!('locks' in navigator)) {
    // No Web Locks: behave as the only tab (a waiting tab then waits forever).
    return ifAvailable ? Promise.resolve({ release() {} }) : new Promise(() => {});
  }
  return new Promise((resolve) => {
    navigator.locks.request(LOCK, { ifAvailable }, (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      // Held until released, or until this page is gone (the browser frees it then).
      return new Promise((releaseLock) => resolve({ release: () => releaseLock(undefined) }));
    });
  });
}
