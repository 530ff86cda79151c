// Load tests/vectors/*.json (shared with the pytest suite in tests/crypto).
import { readFileSync } from 'node:fs';

import { fromHex } from '../../web/crypto/bytes.js';

/** @param {string} name path under tests/vectors */
export function load(name) {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
}

/** Hex to bytes. */
export const h = fromHex;

/**
 * Every {group, test} of tests/vectors/wycheproof/<name>.
 * @param {string} name
 */
export function wycheproof(name) {
  const data = load(`wycheproof/${name}`);
  return data.testGroups.flatMap((group) => group.tests.map((test) => ({ group, test })));
}

/**
 * Every flag in the file is one we considered.
 * @param {string} name
 * @param {string[]} known
 */
export function unknownFlags(name, known) {
  const seen = new Set(wycheproof(name).flatMap(({ test }) => test.flags));
  return [...seen].filter((f) => !known.includes(f));
}

/**
 * The code of the HearthError ``promise`` rejects with (or a description of what else).
 * @param {Promise<unknown>} promise
 */
export async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return e?.name === 'HearthError' ? e.code : `${e?.name}: ${e?.message}`;
  }
  return 'accepted';
}
