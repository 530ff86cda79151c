/**
 * QR Code (ISO/IEC 18004) for the safety number's payload, so a phone can scan what the
 * screen shows instead of anyone reading 60 digits aloud.
 *
 * Only what that payload needs: byte mode, error correction level M (15% of the symbol
 * may be damaged or misread), the smallest version (1-40) that holds the bytes, and the
 * mask (of eight) with the lowest penalty. Drawn as one SVG path with the 4-module quiet
 * zone the standard asks for, always dark on light (scanners do not read inverted codes,
 * whatever the page's theme).
 *
 * Checked module for module, version and mask choice included, against Python's
 * `qrcode` package in tests/web/test_qr.py.
 * @module
 */

/** Level M: error-correction codewords per block, by version (index 0 unused). */
const ECC_PER_BLOCK = [0,
  10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
  26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];

/** Level M: number of Reed-Solomon blocks, by version (index 0 unused). */
const BLOCKS = [0,
  1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
  17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];

/** Level M's two bits in the format information (L M Q H are 01 00 11 10, not in order). */
const LEVEL_M_BITS = 0b00;
const FORMAT_MASK = 0x5412;
const MODE_BYTE = 0b0100;
const QUIET = 4;

/**
 * @typedef {object} QrCode
 * @property {number} version 1-40
 * @property {number} mask 0-7
 * @property {number} size modules per side, 4 * version + 17
 * @property {boolean[][]} modules ``modules[row][col]``, true = dark
 */

/**
 * Modules left for data and error correction once the function patterns are drawn.
 * @param {number} version
 * @returns {number}
 */
function rawModules(version) {
  let n = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    n -= (25 * align - 10) * align - 55;
    if (version >= 7) n -= 36;
  }
  return n;
}

/**
 * @param {number} version
 * @returns {number} data codewords at level M
 */
function dataCodewords(version) {
  return Math.floor(rawModules(version) / 8) - ECC_PER_BLOCK[version] * BLOCKS[version];
}

/**
 * The byte count field grows from 8 to 16 bits at version 10.
 * @param {number} version
 * @returns {number}
 */
function countBits(version) {
  return version < 10 ? 8 : 16;
}

/**
 * The smallest version whose level-M capacity holds ``length`` bytes.
 * @param {number} length
 * @returns {number}
 */
export function versionFor(length) {
  for (let v = 1; v <= 40; v++) {
    // The 4-bit terminator may be cut short, so it is not counted.
    if (4 + countBits(v) + 8 * length <= dataCodewords(v) * 8) return v;
  }
  throw new RangeError(`${length} bytes do not fit in a QR code at level M (2331 at most)`);
}

/**
 * Mode, count, bytes, terminator, then the 0xEC 0x11 pad bytes up to capacity.
 * @param {Uint8Array} data
 * @param {number} version
 * @returns {Uint8Array}
 */
function dataCodewordBytes(data, version) {
  const capacity = dataCodewords(version) * 8;
  /** @type {number[]} */
  const bits = [];
  const put = (/** @type {number} */ value, /** @type {number} */ width) => {
    for (let i = width - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(MODE_BYTE, 4);
  put(data.length, countBits(version));
  for (const b of data) put(b, 8);
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) put(pad, 8);
  const out = new Uint8Array(capacity / 8);
  bits.forEach((bit, i) => { out[i >>> 3] |= bit << (7 - (i & 7)); });
  return out;
}

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1, as exp/log tables.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = x;
  EXP[i + 255] = x;
  LOG[x] = i;
}

/**
 * @param {number} a
 * @param {number} b
 * @returns {number}
 */
function gfMul(a, b) {
  return a && b ? EXP[LOG[a] + LOG[b]] : 0;
}

/**
 * Coefficients (highest degree first, leading 1 dropped) of prod (x - a^i), i < degree.
 * @param {number} degree
 * @returns {Uint8Array}
 */
function generator(degree) {
  let poly = Uint8Array.of(1);
  for (let i = 0; i < degree; i++) {
    const next = new Uint8Array(poly.length + 1);
    poly.forEach((c, j) => {
      next[j] ^= c;
      next[j + 1] ^= gfMul(c, EXP[i]);
    });
    poly = next;
  }
  return poly.subarray(1);
}

/**
 * Reed-Solomon: the remainder of data * x^degree divided by the generator.
 * @param {Uint8Array} data
 * @param {number} degree
 * @returns {Uint8Array}
 */
function reedSolomon(data, degree) {
  const gen = generator(degree);
  const rem = new Uint8Array(degree);
  for (const b of data) {
    const factor = b ^ rem[0];
    rem.copyWithin(0, 1);
    rem[degree - 1] = 0;
    gen.forEach((g, i) => { rem[i] ^= gfMul(g, factor); });
  }
  return rem;
}

/**
 * Split into blocks (the later blocks one data codeword longer when it does not divide
 * evenly), add each block's error correction, then interleave column by column so a
 * local smudge costs every block a little instead of one block a lot.
 * @param {Uint8Array} data
 * @param {number} version
 * @returns {Uint8Array}
 */
function interleave(data, version) {
  const blocks = BLOCKS[version];
  const ecc = ECC_PER_BLOCK[version];
  const raw = Math.floor(rawModules(version) / 8);
  const shortBlocks = blocks - (raw % blocks);
  const shortData = Math.floor(raw / blocks) - ecc;
  /** @type {Uint8Array[]} */
  const dataBlocks = [];
  for (let b = 0, at = 0; b < blocks; b++) {
    const length = shortData + (b < shortBlocks ? 0 : 1);
    dataBlocks.push(data.subarray(at, at + length));
    at += length;
  }
  const out = [];
  for (let i = 0; i <= shortData; i++) {
    for (const block of dataBlocks) if (i < block.length) out.push(block[i]);
  }
  const eccBlocks = dataBlocks.map((block) => reedSolomon(block, ecc));
  for (let i = 0; i < ecc; i++) for (const block of eccBlocks) out.push(block[i]);
  return Uint8Array.from(out);
}

/**
 * Centres of the alignment patterns along one axis.
 * @param {number} version
 * @returns {number[]}
 */
function alignmentCentres(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const size = 4 * version + 17;
  // Even steps, from 6 to size - 7; version 32 is the one whose step the rule would make odd.
  const step = version === 32 ? 26 : Math.ceil((size - 13) / (2 * count - 2)) * 2;
  const out = [6];
  for (let pos = size - 7; out.length < count; pos -= step) out.splice(1, 0, pos);
  return out;
}

/**
 * The 15 format bits: level and mask, BCH(15,5) protected, XOR-masked so they are never
 * all light.
 * @param {number} mask
 * @returns {number}
 */
function formatBits(mask) {
  const data = (LEVEL_M_BITS << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ FORMAT_MASK;
}

/**
 * The 18 version bits (versions 7 and up): BCH(18,6) protected.
 * @param {number} version
 * @returns {number}
 */
function versionBits(version) {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (version << 12) | rem;
}

/** @type {Array<(row: number, col: number) => boolean>} which modules each mask flips */
const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/**
 * The symbol without data: finder, timing and alignment patterns, and the areas kept for
 * format and version information.
 * @param {number} version
 * @returns {{ modules: boolean[][], reserved: boolean[][] }}
 */
function functionPatterns(version) {
  const size = 4 * version + 17;
  const modules = Array.from({ length: size }, () => new Array(size).fill(false));
  const reserved = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (/** @type {number} */ r, /** @type {number} */ c, /** @type {boolean} */ dark) => {
    modules[r][c] = dark;
    reserved[r][c] = true;
  };
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Finder patterns with their light separators: rings by Chebyshev distance from the centre.
  for (const [cr, cc] of [[3, 3], [3, size - 4], [size - 4, 3]]) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const r = cr + dr;
        const c = cc + dc;
        const ring = Math.max(Math.abs(dr), Math.abs(dc));
        if (r >= 0 && r < size && c >= 0 && c < size) set(r, c, ring !== 2 && ring !== 4);
      }
    }
  }
  const centres = alignmentCentres(version);
  const last = centres.length - 1;
  centres.forEach((cr, i) => centres.forEach((cc, j) => {
    // The three that would sit on a finder pattern are left out.
    if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
    for (let dr = -2; dr <= 2; dr++) {
      for (let dc = -2; dc <= 2; dc++) set(cr + dr, cc + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }));
  drawFormat(modules, reserved, 0);
  if (version >= 7) {
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      set(Math.floor(i / 3), size - 11 + (i % 3), dark);
      set(size - 11 + (i % 3), Math.floor(i / 3), dark);
    }
  }
  return { modules, reserved };
}

/**
 * Both copies of the format information, and the one module that is always dark.
 * @param {boolean[][]} modules
 * @param {boolean[][] | null} reserved marked when given
 * @param {number} mask
 */
function drawFormat(modules, reserved, mask) {
  const size = modules.length;
  const bits = formatBits(mask);
  const set = (/** @type {number} */ r, /** @type {number} */ c, /** @type {boolean} */ dark) => {
    modules[r][c] = dark;
    if (reserved) reserved[r][c] = true;
  };
  for (let i = 0; i < 15; i++) {
    const dark = ((bits >>> i) & 1) === 1;
    // Around the top-left finder: down column 8 (skipping the timing row), then left along row 8.
    if (i < 6) set(i, 8, dark);
    else if (i < 8) set(i + 1, 8, dark);
    else if (i === 8) set(8, 7, dark);
    else set(8, 14 - i, dark);
    // The second copy: along row 8 under the top-right finder, then up column 8 by the bottom-left one.
    if (i < 8) set(8, size - 1 - i, dark);
    else set(size - 15 + i, 8, dark);
  }
  set(size - 8, 8, true);
}

/**
 * Place the codewords in two-module-wide columns, zigzagging up and down from the
 * bottom-right corner, around every function module and past the vertical timing line.
 * @param {boolean[][]} modules
 * @param {boolean[][]} reserved
 * @param {Uint8Array} codewords
 */
function placeCodewords(modules, reserved, codewords) {
  const size = modules.length;
  let bit = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let step = 0; step < size; step++) {
      const r = upward ? size - 1 - step : step;
      for (const c of [right, right - 1]) {
        if (reserved[r][c]) continue;
        // The remainder bits after the last codeword stay light (before masking).
        modules[r][c] = bit < codewords.length * 8 && ((codewords[bit >>> 3] >>> (7 - (bit & 7))) & 1) === 1;
        bit++;
      }
    }
  }
}

/**
 * The standard's penalty (ISO/IEC 18004 7.8.3.1) for a finished symbol: runs of five or
 * more same-coloured modules in a row or column (3, plus 1 per module beyond five), each
 * 2x2 same-coloured block (3), each finder-like 1011101 with four light modules on one
 * side (40 per side; the quiet zone counts as light), and the distance of the dark share
 * from 50% (10 per full 5%).
 * @param {boolean[][]} modules
 * @returns {number}
 */
export function penalty(modules) {
  const size = modules.length;
  const lines = [];
  for (let i = 0; i < size; i++) {
    lines.push(modules[i]);
    lines.push(modules.map((row) => row[i]));
  }
  let score = 0;
  for (const line of lines) {
    for (let start = 0, i = 1; i <= size; i++) {
      if (i === size || line[i] !== line[start]) {
        if (i - start >= 5) score += i - start - 2;
        start = i;
      }
    }
    const padded = '0000' + line.map((dark) => (dark ? '1' : '0')).join('') + '0000';
    for (let i = 0; i + 11 <= padded.length; i++) {
      const window = padded.slice(i, i + 11);
      if (window === '00001011101' || window === '10111010000') score += 40;
    }
  }
  let dark = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (modules[r][c]) dark++;
      if (r + 1 < size && c + 1 < size && modules[r][c] === modules[r][c + 1]
          && modules[r][c] === modules[r + 1][c] && modules[r][c] === modules[r + 1][c + 1]) score += 3;
    }
  }
  const total = size * size;
  // |dark / total - 50%| in whole 5% steps, in integers: |20 dark - 10 total| / total.
  score += Math.floor(Math.abs(20 * dark - 10 * total) / total) * 10;
  return score;
}

/**
 * Encode bytes as a level-M QR code.
 * @param {Uint8Array} data
 * @param {{ mask?: number }} [options] force a mask (tests); by default the lowest penalty wins, the first on a tie
 * @returns {QrCode}
 */
export function encodeQr(data, { mask } = {}) {
  const version = versionFor(data.length);
  const { modules: base, reserved } = functionPatterns(version);
  placeCodewords(base, reserved, interleave(dataCodewordBytes(data, version), version));
  const masked = (/** @type {number} */ m) => {
    const modules = base.map((row, r) => row.map((dark, c) => (!reserved[r][c] && MASKS[m](r, c) ? !dark : dark)));
    drawFormat(modules, null, m);
    return modules;
  };
  if (mask !== undefined) {
    if (!Number.isInteger(mask) || mask < 0 || mask > 7) throw new RangeError(`mask must be 0-7, got ${mask}`);
    return { version, mask, size: base.length, modules: masked(mask) };
  }
  let best = { version, mask: 0, size: base.length, modules: masked(0) };
  let bestScore = penalty(best.modules);
  for (let m = 1; m < 8; m++) {
    const modules = masked(m);
    const score = penalty(modules);
    if (score < bestScore) [best, bestScore] = [{ version, mask: m, size: base.length, modules }, score];
  }
  return best;
}

/**
 * SVG path data of the dark modules, one rectangle per horizontal run, offset by the quiet
 * zone; in module units.
 * @param {QrCode} qr
 * @returns {string}
 */
export function qrPath(qr) {
  const parts = [];
  qr.modules.forEach((row, r) => {
    for (let c = 0; c < qr.size; c++) {
      if (!row[c]) continue;
      let end = c;
      while (end + 1 < qr.size && row[end + 1]) end++;
      parts.push(`M${c + QUIET} ${r + QUIET}h${end - c + 1}v1h-${end - c + 1}z`);
      c = end;
    }
  });
  return parts.join('');
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The QR code of ``data`` as an SVG element (scales crisply to any CSS size).
 * @param {Uint8Array} data
 * @param {{ id?: string, label: string }} options ``label`` is read out by screen readers
 * @returns {SVGSVGElement}
 */
export function qrSvg(data, { id, label }) {
  const qr = encodeQr(data);
  const side = qr.size + 2 * QUIET;
  const svg = /** @type {SVGSVGElement} */ (document.createElementNS(SVG, 'svg'));
  for (const [key, value] of Object.entries({
    viewBox: `0 0 ${side} ${side}`, role: 'img', 'aria-label': label, 'shape-rendering': 'crispEdges',
    class: 'qr', 'data-version': String(qr.version), 'data-mask': String(qr.mask),
  })) svg.setAttribute(key, value);
  if (id) svg.id = id;
  const background = document.createElementNS(SVG, 'rect');
  for (const [key, value] of Object.entries({ width: side, height: side, fill: '#fff' })) background.setAttribute(key, String(value));
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', qrPath(qr));
  path.setAttribute('fill', '#000');
  svg.append(background, path);
  return svg;
}
