/**
 * One authenticated WebSocket to a relay, for this device: the JS twin of
 * hearth/client.py's Client, plus what a browser needs on top -- reconnecting by itself.
 *
 * - Authenticates by signing the relay's challenge (auth.js).
 * - Sends device-signed requests and accepts a response only if it verifies against
 *   the key inside the host id it asked, names this device and answers a nonce still
 *   waiting (a relay can neither forge nor misroute answers).
 * - Accepts an event only if it verifies and its signed space/channel equal its route.
 * - Accepts presence and typing (``eph``) only if the sending device's signature, the
 *   route and the clock check out (ephemeral.js); the roster check is the caller's.
 * - Reconnects with jittered exponential backoff when the socket drops, and announces
 *   every (re)connection with an ``online`` event so that sessions resubscribe.
 *
 * Events (CustomEvent.detail): ``state`` {state, retryInMs}, ``online`` {reconnect},
 * ``event`` {host, body}, ``eph`` {host, body}, ``unsubbed`` frame, ``host_status`` frame.
 * @module
 */

import { b64e } from '../crypto/bytes.js';
import { helloFrame } from './auth.js';
import { openHostBody, signRequest } from './bodies.js';
import { openEphemeral, signEphemeral } from './ephemeral.js';
import { RequestError } from './errors.js';
import { decodeFrame, encodeFrame } from './frames.js';

const PING_INTERVAL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;
const BACKOFF_BASE_MS = 400;
const BACKOFF_MAX_MS = 15_000;

/**
 * @typedef {'connecting' | 'online' | 'reconnecting' | 'stopped'} ConnectionState
 */

/**
 * @typedef {object} DeviceCredentials
 * @property {{privateKey: CryptoKey, publicKey: Uint8Array}} device signing key pair
 * @property {Uint8Array} certificate the account-signed 169-byte certificate
 */

/**
 * @typedef {object} Pending
 * @property {string} hostId
 * @property {(r: Record<string, any>) => void} resolve
 * @property {(e: Error) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

/**
 * The WebSocket URL of the relay at ``origin`` (http -> ws, https -> wss).
 * @param {string} origin
 * @returns {string}
 */
export function clientSocketUrl(origin) {
  const url = new URL(origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/ws/client';
  return url.href;
}

/**
 * Backoff before reconnect attempt ``attempt`` (0-based): exponential, capped, and
 * jittered to between half and all of it, so a relay restart is not met by every
 * client at the same instant.
 * @param {number} attempt
 * @returns {number} ms
 */
export function backoffDelay(attempt) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** How often a rate-limited request is sent again (after 0.25, 0.5, 1, 2 s, jittered). */
const RATE_LIMIT_RETRIES = 4;

export class RelayConnection extends EventTarget {
  /** @type {WebSocket | null} */ #ws = null;
  /** @type {Map<string, Pending>} */ #pending = new Map();
  /** @type {Promise<unknown>} frames are handled one at a time, in order */
  #inbox = Promise.resolve();
  /** @type {Promise<unknown>} subscriptions are answered in order, one at a time */
  #subQueue = Promise.resolve();
  /** @type {{host: string, space: string, resolve: Function, reject: Function} | null} */
  #subWaiter = null;
  /** @type {ConnectionState} */ #state = 'connecting';
  #attempt = 0;
  #everOnline = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #retryTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */ #pingTimer;
  /** @type {Array<() => void>} */ #onlineWaiters = [];

  /**
   * @param {string} origin the relay's http(s) origin
   * @param {DeviceCredentials} credentials
   */
  constructor(origin, credentials) {
    super();
    this.origin = origin;
    this.credentials = credentials;
    this.deviceId = b64e(credentials.device.publicKey);
    /** the account key, from the certificate (bytes 1..33, docs/protocol.md section 3) */
    this.account = b64e(credentials.certificate.subarray(1, 33));
    /** @type {string} */
    this.connId = '';
  }

  /** @returns {ConnectionState} */
  get state() {
    return this.#state;
  }

  start() {
    this.#open();
  }

  /** Close for good (this tab gave up the device, or the page is going away). */
  stop() {
    this.#setState('stopped');
    clearTimeout(this.#retryTimer);
    this.#ws?.close(1000, 'client closing');
    this.#ws = null;
  }

  /** Retry now instead of waiting out the backoff (the network came back). */
  retryNow() {
    if (this.#state !== 'reconnecting') return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /**
   * Close the socket as a network failure would (tests, and a stuck socket).
   */
  drop() {
    this.#ws?.close(4000, 'client dropped the connection');
  }

  /** @param {ConnectionState} state @param {number} [retryInMs] */
  #setState(state, retryInMs = 0) {
    this.#state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryInMs } }));
  }

  #open() {
    this.#setState(this.#everOnline ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(clientSocketUrl(this.origin));
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    ws.onmessage = (msg) => {
      this.#inbox = this.#inbox.then(() => this.#handle(ws, String(msg.data)))
        .catch((e) => console.warn('hearth: dropped a frame from the relay', e));
    };
    ws.onclose = () => {
      if (this.#ws === ws) this.#closed();
    };
  }

  #closed() {
    this.#ws = null;
    clearInterval(this.#pingTimer);
    for (const [n, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError('connection_lost', `connection closed before ${n} was answered`));
    }
    this.#pending.clear();
    this.#subWaiter?.reject(new RequestError('connection_lost', 'connection closed'));
    this.#subWaiter = null;
    if (this.#state !== 'stopped') this.#scheduleRetry();
  }

  #scheduleRetry() {
    const delay = backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.#setState('reconnecting', delay);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  /**
   * @param {WebSocket} ws
   * @param {string} text
   */
  async #handle(ws, text) {
    const frame = decodeFrame(text);
    switch (frame.t) {
      case 'challenge': {
        const hello = await helloFrame(this.credentials.device, this.credentials.certificate,
          frame.nonce);
        ws.send(encodeFrame(hello));
        break;
      }
      case 'welcome': {
        if (frame.dev !== this.deviceId) {
          ws.close(1000, 'relay welcomed another device');
          return;
        }
        this.connId = frame.conn;
        const reconnect = this.#everOnline;
        this.#everOnline = true;
        this.#attempt = 0;
        this.#setState('online');
        this.#pingTimer = setInterval(() => this.#send({ t: 'ping' }), PING_INTERVAL_MS);
        for (const wake of this.#onlineWaiters.splice(0)) wake();
        this.dispatchEvent(new CustomEvent('online', { detail: { reconnect } }));
        break;
      }
      case 'resp':
        await this.#onResponse(frame);
        break;
      case 'event':
        await this.#onEvent(frame);
        break;
      case 'eph':
        await this.#onEphemeral(frame);
        break;
      case 'subbed':
        if (this.#subWaiter && this.#subWaiter.host === frame.host
            && this.#subWaiter.space === frame.space) {
          this.#subWaiter.resolve(frame);
          this.#subWaiter = null;
        }
        break;
      case 'error':
        this.#onError(frame);
        break;
      case 'unsubbed':
      case 'host_status':
        this.dispatchEvent(new CustomEvent(frame.t, { detail: frame }));
        break;
      default:
        break; // pong
    }
  }

  /** @param {Record<string, any>} frame */
  async #onResponse(frame) {
    let body;
    try {
      body = await openHostBody(frame.host, frame.body, frame.sig, 'response');
    } catch (e) {
      console.warn('hearth: dropped a response that failed verification', e);
      return;
    }
    const waiting = this.#pending.get(body.re);
    if (body.dev !== this.deviceId || !waiting || waiting.hostId !== frame.host) {
      console.warn('hearth: dropped a response addressed elsewhere');
      return;
    }
    this.#pending.delete(body.re);
    clearTimeout(waiting.timer);
    if (body.ok) waiting.resolve(body.r ?? {});
    else waiting.reject(new RequestError(body.err?.code ?? 'internal', body.err?.msg ?? 'no detail'));
  }

  /** @param {Record<string, any>} frame */
  async #onEvent(frame) {
    let body;
    try {
      body = await openHostBody(frame.host, frame.body, frame.sig, 'event');
    } catch (e) {
      console.warn('hearth: dropped an event that failed verification', e);
      return;
    }
    if (body.space !== frame.space || body.chan !== frame.chan) {
      console.warn('hearth: dropped an event whose signed channel differs from its route');
      return;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: { host: frame.host, body } }));
  }

  /** @param {Record<string, any>} frame */
  async #onEphemeral(frame) {
    let body;
    try {
      body = await openEphemeral(frame, Date.now());
    } catch (e) {
      console.warn('hearth: dropped a presence or typing update', e);
      return;
    }
    this.dispatchEvent(new CustomEvent('eph', { detail: { host: frame.host, body } }));
  }

  /**
   * Sign and send a presence or typing update, if connected (they are worth nothing
   * later, so nothing is queued). The relay refuses it unless this connection follows
   * the space or channel.
   * @param {{host: string, space: string, chan: string, k: 'presence' | 'typing', state: string}} update
   * @returns {Promise<boolean>} whether it was sent
   */
  async sendEphemeral(update) {
    if (this.#state !== 'online') return false;
    return this.sendNow(await signEphemeral(this.credentials.device, this.account, update));
  }

  /**
   * Send an already signed frame synchronously, if connected: what a page that is
   * going away can still do (signing is asynchronous).
   * @param {Record<string, unknown> & {t: string}} frame
   * @returns {boolean} whether it was sent
   */
  sendNow(frame) {
    try {
      this.#send(frame);
      return true;
    } catch {
      return false;
    }
  }

  /** @param {Record<string, any>} frame */
  #onError(frame) {
    const error = new RequestError(frame.code, frame.msg);
    const waiting = frame.ref ? this.#pending.get(frame.ref) : undefined;
    if (waiting) {
      this.#pending.delete(frame.ref);
      clearTimeout(waiting.timer);
      waiting.reject(error);
    } else if (frame.ref === 'sub' && this.#subWaiter) {
      this.#subWaiter.reject(error);
      this.#subWaiter = null;
    } else {
      console.warn('hearth: relay refused a frame', frame);
    }
  }

  /** @param {Record<string, unknown> & {t: string}} frame */
  #send(frame) {
    if (this.#ws?.readyState !== WebSocket.OPEN) {
      throw new RequestError('connection_lost', 'not connected to the relay');
    }
    this.#ws.send(encodeFrame(frame));
  }

  /**
   * Resolve once authenticated (at once if already), or reject after ``timeoutMs``.
   * @param {number} timeoutMs
   * @returns {Promise<void>}
   */
  whenOnline(timeoutMs = REQUEST_TIMEOUT_MS) {
    if (this.#state === 'online') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onlineWaiters = this.#onlineWaiters.filter((w) => w !== wake);
        reject(new RequestError('connection_lost', 'not connected to the relay'));
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#onlineWaiters.push(wake);
    });
  }

  /**
   * A device-signed request to ``hostId``: its verified result, or RequestError.
   * Waits for the connection if it is being re-established; signs only when sending,
   * so the host's clock-skew check sees a fresh timestamp.
   * @param {string} hostId
   * @param {string} op
   * @param {object} [args]
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<Record<string, any>>}
   */
  async request(hostId, op, args = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    // A burst (opening a space fires a dozen requests) can meet the relay's rate limit:
    // wait and send again rather than fail what the user asked for.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#requestOnce(hostId, op, args, timeoutMs);
      } catch (e) {
        if (!(e instanceof RequestError) || e.code !== 'rate_limited'
            || attempt >= RATE_LIMIT_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, (250 << attempt) * (0.5 + Math.random())));
      }
    }
  }

  /**
   * @param {string} hostId
   * @param {string} op
   * @param {object} args
   * @param {number} timeoutMs
   * @returns {Promise<Record<string, any>>}
   */
  async #requestOnce(hostId, op, args, timeoutMs) {
    await this.whenOnline(timeoutMs);
    const signed = await signRequest(this.credentials.device, hostId, op, args);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(signed.n);
        reject(new RequestError('timeout', `no answer to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(signed.n, { hostId, resolve, reject, timer });
      try {
        this.#send({ t: 'req', host: hostId, id: signed.n, body: signed.text, sig: signed.sig });
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(signed.n);
        reject(e);
      }
    });
  }

  /**
   * Follow ``chans`` of the token's space; resolves with the ``subbed`` frame.
   * @param {string} hostId
   * @param {string} space
   * @param {string} token from the host's ``token`` op
   * @param {string[]} chans
   * @returns {Promise<Record<string, any>>}
   */
  subscribe(hostId, space, token, chans) {
    const run = this.#subQueue.then(() => new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#subWaiter = null;
        reject(new RequestError('timeout', 'the relay did not confirm the subscription'));
      }, REQUEST_TIMEOUT_MS);
      this.#subWaiter = {
        host: hostId, space,
        resolve: (/** @type {any} */ f) => { clearTimeout(timer); resolve(f); },
        reject: (/** @type {Error} */ e) => { clearTimeout(timer); reject(e); },
      };
      try {
        this.#send({ t: 'sub', token, chans });
      } catch (e) {
        this.#subWaiter.reject(/** @type {Error} */ (e));
        this.#subWaiter = null;
      }
    }));
    this.#subQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * @param {string} hostId
   * @param {string} space
   * @param {string[]} chans
   */
  unsubscribe(hostId, space, chans) {
    try {
      this.#send({ t: 'unsub', host: hostId, space, chans });
    } catch {
      // Not connected: the relay dropped every subscription of the old connection anyway.
    }
  }
}
