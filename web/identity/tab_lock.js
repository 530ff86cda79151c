/**
 * One tab owns this device (DESIGN.md section 6). The owner holds a Web Lock for as long
 * as it runs Hearth; it alone opens relay connections and, once end-to-end encryption
 * lands, alone advances the ratchet state -- two tabs advancing one sender chain would
 * reuse message keys. Another tab shows a notice and can ask, over a BroadcastChannel,
 * to take over: the owner then stops, releases the lock, and says so on its own screen.
 * @module
 */

const LOCK = 'hearth-device';
const CHANNEL = 'hearth-tabs';

/**
 * @typedef {object} TabOwnership
 * @property {() => void} release give the device up
 */

/**
 * Try to own the device now. Resolves with the ownership, or null if another tab has it.
 * ``onTakeover`` runs when another tab asks to take over (the owner should stop and then
 * call release).
 * @param {() => void} onTakeover
 * @returns {Promise<TabOwnership | null>}
 */
export function tryOwnDevice(onTakeover) {
  return own(onTakeover, true);
}

/**
 * Ask the owning tab to hand over, then wait until this tab owns the device.
 * @param {() => void} onTakeover
 * @returns {Promise<TabOwnership>}
 */
export async function takeOverDevice(onTakeover) {
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage({ type: 'take-over' });
  channel.close();
  return /** @type {Promise<TabOwnership>} */ (own(onTakeover, false));
}

/**
 * @param {() => void} onTakeover
 * @param {boolean} ifAvailable
 * @returns {Promise<TabOwnership | null>}
 */
function own(onTakeover, ifAvailable) {
  if (!('locks' in navigator)) {
    return Promise.resolve({ release() {} }); // no Web Locks: behave as the only tab
  }
  return new Promise((resolve) => {
    navigator.locks.request(LOCK, { ifAvailable }, (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      return new Promise((releaseLock) => {
        const channel = new BroadcastChannel(CHANNEL);
        channel.onmessage = (msg) => {
          if (msg.data?.type === 'take-over') onTakeover();
        };
        resolve({
          release() {
            channel.close();
            releaseLock(undefined);
          },
        });
      });
    });
  });
}
