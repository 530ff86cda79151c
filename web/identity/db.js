/**
 * A tiny key-value store over IndexedDB. CryptoKey objects are structured-cloneable,
 * so non-extractable keys are stored as they are: the browser keeps their material out
 * of reach of page script, including ours.
 * @module
 */

const DB_NAME = 'hearth';
const STORE = 'kv';

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** @returns {Promise<IDBDatabase>} */
function db() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  return opening;
}

/**
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} action
 * @returns {Promise<T>}
 */
async function run(mode, action) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const req = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * @param {string} key
 * @returns {Promise<any>} the stored value, or undefined
 */
export function get(key) {
  return run('readonly', (s) => s.get(key));
}

/**
 * @param {string} key
 * @param {unknown} value
 * @returns {Promise<unknown>}
 */
export function put(key, value) {
  return run('readwrite', (s) => s.put(value, key));
}

/**
 * @param {string} key
 * @returns {Promise<unknown>}
 */
export function del(key) {
  return run('readwrite', (s) => s.delete(key));
}
