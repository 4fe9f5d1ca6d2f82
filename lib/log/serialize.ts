// Turns an appended value into the JSON text of a record's data, or says why it cannot.
import { MAX_RECORD_BYTES } from './format';

/** Room left for the record's own fields around the data. */
const ENVELOPE_BYTES = 512;
export const MAX_DATA_BYTES = MAX_RECORD_BYTES - ENVELOPE_BYTES;

export function serializeData(data: unknown): string {
  const kind = typeof data;
  if (data === undefined || kind === 'function' || kind === 'symbol') {
    throw new TypeError(`The "data" argument must be a JSON-serializable value. Received ${kind}`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    // A cycle or a BigInt: JSON.stringify's own TypeError says which.
    throw new TypeError(`The "data" argument cannot be serialized to JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw new TypeError('The "data" argument serializes to nothing (a toJSON returning undefined)');
  // Most records are far below the limit: only count bytes when the characters could exceed it.
  if (json.length * 3 > MAX_DATA_BYTES && Buffer.byteLength(json) > MAX_DATA_BYTES) {
    throw new RangeError(`The "data" argument is ${Buffer.byteLength(json)} bytes as JSON; a record holds at most ${MAX_DATA_BYTES}`);
  }
  return json;
}
