/**
 * Frames (docs/protocol.md sections 1 and 7): WebSocket text messages, one JSON object
 * each, tagged by ``t``. The client only builds the frames it may send and reads the
 * ones a relay sends; the relay validates strictly, so this side stays small.
 * @module
 */

import { ErrorCode, HearthError } from '../crypto/errors.js';

/** Frame types a relay sends to a client. */
const FROM_RELAY = new Set(['challenge', 'welcome', 'resp', 'subbed', 'unsubbed', 'event',
  'eph', 'host_status', 'error', 'pong']);

/**
 * @param {Record<string, unknown> & {t: string}} frame
 * @returns {string}
 */
export function encodeFrame(frame) {
  return JSON.stringify(frame);
}

/**
 * Parse a frame from the relay; HearthError bad_frame if it is not one.
 * @param {string} text
 * @returns {Record<string, any> & {t: string}}
 */
export function decodeFrame(text) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new HearthError(ErrorCode.BAD_FRAME, 'frame from the relay is not JSON');
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || typeof obj.t !== 'string') {
    throw new HearthError(ErrorCode.BAD_FRAME, 'frame from the relay has no string field t');
  }
  if (!FROM_RELAY.has(obj.t)) {
    throw new HearthError(ErrorCode.BAD_FRAME, `a relay does not send ${JSON.stringify(obj.t)} frames`);
  }
  return obj;
}
