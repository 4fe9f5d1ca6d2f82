// The chain: the one place that advances seq and prev and encodes a record.
//
// A record is encoded at once (next(), push()), or staged: its seq taken now and its data encoded
// later, off the main thread, when its buffer is written (stage()). While records are staged the head's
// hash is not known: whatever asks for it (the head, the next record encoded at once) first has the
// staged records written through the `settle` given with them.
import { GENESIS, type Head, type RecordType, type SigningKey, encodeRecord } from './format';
import { type RecordBuffer, timestamp } from './record-buffer';

export interface EncodedRecord {
  /** The line, newline included. */
  line: string;
  head: Head;
}

export class Chain {
  /** The head as seq and hash (0 and null for an empty log), never an object handed to a caller. */
  #seq = 0;
  #hash: string | null = null;
  /** The record buffer whose last record is the head, or null when the head came from elsewhere. */
  #madeBy: RecordBuffer | null = null;
  /** Records staged after the head, and what makes their hashes known. */
  #staged = 0;
  #settleStaged: (() => void) | null = null;

  /** The last record encoded or read back: { seq, hash } (a copy), or null for an empty log. */
  get head(): Head | null {
    this.#settle();
    return this.#hash === null ? null : { seq: this.#seq, hash: this.#hash };
  }

  /** Continues from what the file holds (after reading its tail); staged records are forgotten. */
  reset(head: Head | null): void {
    this.#staged = 0;
    this.#settleStaged = null;
    this.#moveTo(head?.seq ?? 0, head?.hash ?? null, null);
  }

  /** Encodes the record after the head and makes it the head. */
  next(dataJson: string, type: RecordType, key: SigningKey | null): EncodedRecord {
    this.#settle();
    const seq = this.#seq + 1;
    const { line, hash } = encodeRecord({ seq, ts: timestamp(), prev: this.#hash ?? GENESIS, type, keyId: key?.id ?? null, dataJson }, key);
    this.#moveTo(seq, hash, null);
    return { line, head: { seq, hash } };
  }

  /** Encodes the next data record into `records` (written with the others there) and makes it the head. */
  push(records: RecordBuffer, dataJson: string, key: SigningKey | null): Head {
    this.#settle();
    const seq = this.#seq + 1;
    const prev = this.prevFor(records);
    const hash = prev === null ? records.pushNext(seq, key, dataJson) : records.push(seq, prev, 'data', key, dataJson);
    this.#moveTo(seq, hash, records);
    return { seq, hash };
  }

  /**
   * Takes the seq of a record to be encoded later, after the records staged before it. `settle` writes
   * the staged records and calls settled() (or reset(), when their write failed).
   */
  stage(settle: () => void): number {
    this.#staged += 1;
    this.#settleStaged = settle;
    return this.#seq + this.#staged;
  }

  /**
   * What the next record written through `records` chains on, as RecordBuffer takes it: null when the
   * head is the record that buffer made last. Not to be asked while records staged before it are
   * being written.
   */
  prevFor(records: RecordBuffer): string | null {
    return records === this.#madeBy ? null : (this.#hash ?? GENESIS);
  }

  /** The first `count` staged records were written through `records`; `head` is the last of them. */
  settled(count: number, head: Head, records: RecordBuffer): void {
    this.#staged -= count;
    if (this.#staged === 0) this.#settleStaged = null;
    this.#moveTo(head.seq, head.hash, records);
  }

  /** The staged records' write failed: none of them is in the chain (a catch-up follows). */
  abandonStaged(): void {
    this.#staged = 0;
    this.#settleStaged = null;
  }

  #moveTo(seq: number, hash: string | null, madeBy: RecordBuffer | null): void {
    this.#seq = seq;
    this.#hash = hash;
    this.#madeBy = madeBy;
  }

  #settle(): void {
    if (this.#staged === 0) return;
    this.#settleStaged!();
    if (this.#staged !== 0) throw new Error('fs-append-only: staged records were not settled');
  }
}
