// node tests/web/run_qr.mjs CASES.json: encode each case with web/ui/qr.js and print JSON.
// A case is {"hex": payload, "mask": 0-7 or null}; the answer per case is its version,
// mask, rows as "0"/"1" strings, and the penalty of each of the eight masks.
import { readFileSync } from 'node:fs';

import { encodeQr, penalty } from '../../web/ui/qr.js';

const rows = (/** @type {boolean[][]} */ modules) => modules.map((row) => row.map((d) => (d ? '1' : '0')).join(''));
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = cases.map(({ hex, mask }) => {
  const data = Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
  const qr = encodeQr(data, mask === null ? {} : { mask });
  const penalties = [...Array(8).keys()].map((m) => penalty(encodeQr(data, { mask: m }).modules));
  return { version: qr.version, mask: qr.mask, rows: rows(qr.modules), penalties };
});
console.log(JSON.stringify(out));
