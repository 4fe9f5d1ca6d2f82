// The chain: the one place that advances seq and prev and encodes a record.
import { GENESIS, type Head, type RecordType, type SigningKey, encodeRecord } from './format';
import { type RecordBuffer, timestamp } from './record-buffer';

export interface EncodedRecord {
  /** The line, newline included. */
  line: string;
  head: Head;
}

export class Chain {
  #head: Head | null = null;
  /** The head last pushed into a record buffer, and that buffer. */
  #pushed: Head | null = null;
  #pushedTo: RecordBuffer | null = null;

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

  /** Encodes the next data record into `records` (written with the others there) and makes it the head. */
  push(records: RecordBuffer, dataJson: string, key: SigningKey | null): Head {
    const head = this.#head;
    const seq = (head?.seq ?? 0) + 1;
    // A head that is the record `records` took last needs no passing back: the buffer chains from it.
    const continues = head !== null && head === this.#pushed && records === this.#pushedTo;
    const hash = records.push(seq, continues ? null : (head?.hash ?? GENESIS), 'data', key, dataJson);
    this.#head = { seq, hash };
    this.#pushed = this.#head;
    this.#pushedTo = records;
    return this.#head;
  }
}
