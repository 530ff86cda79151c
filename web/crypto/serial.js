/**
 * One-at-a-time execution of async steps on shared state.
 *
 * Python's sessions mutate synchronously; WebCrypto is async, so two calls on one
 * session could interleave between reading its state and writing it back. For an
 * outbound session that would give two messages the same index -- the same AES-GCM key
 * and nonce -- and for an inbound one it would let two message ids pass the replay check
 * for one index. Every state change of a session therefore runs through a Serial.
 *
 * Invariant: steps run in call order, each after the previous one settled; a failed step
 * rejects its own promise only and does not stop later steps.
 * @module
 */

export class Serial {
  /** @type {Promise<unknown>} */
  #tail = Promise.resolve();

  /**
   * Run ``step`` after every step queued before it.
   * @template T
   * @param {() => Promise<T>} step
   * @returns {Promise<T>}
   */
  run(step) {
    const result = this.#tail.then(step);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
