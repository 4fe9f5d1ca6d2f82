// The chain: the one place that advances seq and prev and encodes a record.
import { GENESIS, type Head, type RecordType, type SigningKey, encodeRecord } from './format';

// toISOString() costs more than the rest of a record's bookkeeping: reuse it within a millisecond.
let lastMillisecond = 0;
let lastTimestamp = '';
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastTimestamp = new Date(now).toISOString();
  }
  return lastTimestamp;
}

export interface EncodedRecord {
  /** The line, newline included. */
  line: string;
  head: Head;
}

export class Chain {
  #head: Head | null = null;

  /** The last record encoded or read back: { seq, hash }, or null for an empty log. */
  get head(): Head | null {
    return this.#head;
  }

  /** Continues from what the file holds (after reading its tail). */
  reset(head: Head | null): void {
    this.#head = head;
  }

  /** Encodes the record after the head and makes it the head. */
  next(dataJson: string, type: RecordType, key: SigningKey | null): EncodedRecord {
    const seq = (this.#head?.seq ?? 0) + 1;
    const prev = this.#head?.hash ?? GENESIS;
    const { line, hash } = encodeRecord({ seq, ts: timestamp(), prev, type, keyId: key?.id ?? null, dataJson }, key);
    this.#head = { seq, hash };
    return { line, head: this.#head };
  }
}
