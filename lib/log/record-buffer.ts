// Records encoded and waiting to be written together. The addon's RecordBuffer (src/record_buffer.cc)
// encodes, chains and signs each record straight into native memory and writes it from there: a record
// then costs no JavaScript string of its line and no UTF-8 conversion of it, only its hash comes back.
// The JavaScript buffer below writes the same bytes: it is the fallback, and the reference.
import { writeSync } from 'node:fs';

import { type NativeRecordBuffer, nativeRecordBufferClass } from '../binding';
import type { CompactRange } from '../checkpoint/merkle';
import { type RecordType, type SigningKey, encodeRecordJs, nativeKeyHandle } from './format';
import { WriteFailure } from './log-file';

/**
 * Set by tests only (read once): every record is stamped with this time, so that logs written with and
 * without the addon can be compared byte for byte.
 */
const FIXED_TIMESTAMP = process.env.FS_APPEND_ONLY_TEST_TIMESTAMP ?? null;

// toISOString() costs more than the rest of a record's bookkeeping: reuse it within a millisecond.
let lastMillisecond = 0;
let lastTimestamp = '';

/** The time a record is stamped with, as Date.prototype.toISOString() writes it. */
export function timestamp(): string {
  if (FIXED_TIMESTAMP !== null) return FIXED_TIMESTAMP;
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastTimestamp = new Date(now).toISOString();
  }
  return lastTimestamp;
}

/**
 * Records handed over as data only (the writer's bursts): encoded when the write starts, on the addon's
 * background thread, after the pending records; `seq` is the first one's, `prev` what it chains on (null:
 * the hash this buffer returned last).
 */
export interface StagedRecords {
  seq: number;
  prev: string | null;
  jsons: string[];
  key: SigningKey | null;
}

export interface RecordBuffer {
  /** The pending bytes: they bound memory, and count toward a segment's size. */
  readonly bytes: number;
  /** The pending records. */
  readonly count: number;
  /**
   * Encodes the record after `prev`, stamped now, into the pending bytes; returns its hash. A null prev
   * is the hash this buffer returned last (a pop() forgets it).
   */
  push(seq: number, prev: string | null, type: RecordType, key: SigningKey | null, dataJson: string): string;
  /**
   * push(seq, null, 'data', key, dataJson) where `seq` follows the record this buffer pushed last: the
   * writer's common case, which the addon takes with fewer checks while the key stays the same.
   */
  pushNext(seq: number, key: SigningKey | null, dataJson: string): string;
  /** Takes back the last record pushed (one only). */
  pop(): void;
  /** Folds the pending records into a compact range (before writing them: a failed write invalidates the range). */
  fold(range: CompactRange): void;
  /** How many records of the last write lie whole within its first `bytes` bytes (after a WriteFailure). */
  wholeLines(bytes: number): number;
  /** The bytes of the last write settled. */
  readonly lastWriteBytes: number;
  /**
   * Starts writing every pending byte to `fd`, then the `staged` records encoded (the addon does both on
   * its background thread, while the next records are encoded or stringified) and starts an empty
   * pending buffer. One write at a time: settle() first.
   */
  startWrite(fd: number, staged?: StagedRecords): void;
  /**
   * Waits for the write startWrite() began; returns the staged records' hashes, 64 hex digits each,
   * back to back. A WriteFailure says how many bytes reached the file, and carries those hashes.
   */
  settle(): string;
  /** startWrite() and settle(). */
  write(fd: number, staged?: StagedRecords): string;
  clear(): void;
}

/** The addon's buffer where the platform policy allows it, else the JavaScript one. */
export function createRecordBuffer(): RecordBuffer {
  const NativeClass = nativeRecordBufferClass();
  return NativeClass === undefined ? new JsRecordBuffer() : new NativeRecords(NativeClass);
}

class NativeRecords implements RecordBuffer {
  /** [pending bytes, pending records, bytes of the last write settled], kept current by the addon. */
  readonly #state = new Int32Array(3);
  readonly #native: NativeRecordBuffer;
  #lastBytes = 0;
  /** The key pushNext() signs with in the addon (the last data record's); undefined: not known there. */
  #nextKey: SigningKey | null | undefined = undefined;

  constructor(NativeClass: new (state: Int32Array, fixedTimestamp: string | null) => NativeRecordBuffer) {
    this.#native = new NativeClass(this.#state, FIXED_TIMESTAMP);
  }

  get bytes(): number {
    return this.#state[0]!;
  }

  get count(): number {
    return this.#state[1]!;
  }

  get lastWriteBytes(): number {
    return this.#state[2]!;
  }

  push(seq: number, prev: string | null, type: RecordType, key: SigningKey | null, dataJson: string): string {
    this.#lastBytes = this.#state[0]!;
    if (type === 'data') this.#nextKey = key;
    if (key === null) return this.#native.push(seq, prev, type === 'data' ? null : type, null, dataJson, null);
    return this.#native.push(seq, prev, type === 'data' ? null : type, key.id, dataJson, nativeKeyHandle(key));
  }

  pushNext(seq: number, key: SigningKey | null, dataJson: string): string {
    if (key !== this.#nextKey) {
      this.#nextKey = key;
      return this.push(seq, null, 'data', key, dataJson);
    }
    this.#lastBytes = this.#state[0]!;
    return this.#native.pushNext(seq, dataJson);
  }

  pop(): void {
    this.#native.truncate(this.#lastBytes, this.count - 1);
  }

  fold(range: CompactRange): void {
    range.appendWith((stack, size) => this.#native.fold(stack, size));
  }

  wholeLines(bytes: number): number {
    return this.#native.wholeLines(bytes);
  }

  startWrite(fd: number, staged?: StagedRecords): void {
    if (staged === undefined) return this.#native.startWrite(fd);
    this.#nextKey = undefined;
    const key = staged.key;
    this.#native.startWrite(fd, staged.seq, staged.prev, staged.jsons, key?.id ?? null, key === null ? null : nativeKeyHandle(key));
  }

  settle(): string {
    try {
      return this.#native.settle();
    } catch (error) {
      const { written, hashes } = error as { written?: unknown; hashes?: unknown };
      if (typeof written !== 'number') throw error;
      delete (error as { written?: unknown }).written;
      delete (error as { hashes?: unknown }).hashes;
      throw new WriteFailure(written, error, typeof hashes === 'string' ? hashes : '');
    }
  }

  write(fd: number, staged?: StagedRecords): string {
    this.startWrite(fd, staged);
    return this.settle();
  }

  clear(): void {
    this.#native.clear();
  }
}

export class JsRecordBuffer implements RecordBuffer {
  #lines: string[] = [];
  #lastHash: string | null = null;
  /** Each pending line's end, in bytes from the first. */
  #ends: number[] = [];
  /** The last write's line ends, the staged records' hashes, and its failure until settled. */
  #writtenEnds: number[] = [];
  #stagedHashes = '';
  #failure: WriteFailure | null = null;
  /** From startWrite() until settle(), as the addon's buffer: one write at a time. */
  #unsettled = false;
  #writtenBytes = 0;
  #lastWriteBytes = 0;

  get bytes(): number {
    return this.#ends.length === 0 ? 0 : this.#ends[this.#ends.length - 1]!;
  }

  get count(): number {
    return this.#lines.length;
  }

  get lastWriteBytes(): number {
    return this.#lastWriteBytes;
  }

  push(seq: number, prev: string | null, type: RecordType, key: SigningKey | null, dataJson: string): string {
    const after = prev ?? this.#lastHash;
    if (after === null) throw new Error('push: no record was pushed to continue from; pass prev');
    const { line, hash } = encodeRecordJs({ seq, ts: timestamp(), prev: after, type, keyId: key?.id ?? null, dataJson }, key);
    this.#ends.push(this.bytes + Buffer.byteLength(line));
    this.#lines.push(line);
    this.#lastHash = hash;
    return hash;
  }

  pushNext(seq: number, key: SigningKey | null, dataJson: string): string {
    return this.push(seq, null, 'data', key, dataJson);
  }

  pop(): void {
    this.#lines.pop();
    this.#ends.pop();
    this.#lastHash = null;
  }

  fold(range: CompactRange): void {
    if (this.#lines.length > 0) range.appendRecordLines(this.#joined());
  }

  wholeLines(bytes: number): number {
    let count = 0;
    while (count < this.#writtenEnds.length && this.#writtenEnds[count]! <= bytes) count += 1;
    return count;
  }

  // Encoded and written here and now: the outcome waits for settle().
  startWrite(fd: number, staged?: StagedRecords): void {
    if (this.#unsettled) throw new Error('startWrite: the last write is not settled');
    this.#unsettled = true;
    let hashes = '';
    if (staged !== undefined) {
      let prev = staged.prev;
      staged.jsons.forEach((dataJson, index) => {
        prev = this.push(staged.seq + index, prev, 'data', staged.key, dataJson);
        hashes += prev;
      });
    }
    const bytes = this.#joined();
    this.#writtenEnds = this.#ends;
    this.#stagedHashes = hashes;
    this.clear();
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      this.#failure = new WriteFailure(done, error, hashes);
    }
    this.#writtenBytes = done;
  }

  settle(): string {
    if (!this.#unsettled) return '';
    this.#unsettled = false;
    this.#lastWriteBytes = this.#writtenBytes;
    const failure = this.#failure;
    this.#failure = null;
    if (failure !== null) throw failure;
    return this.#stagedHashes;
  }

  write(fd: number, staged?: StagedRecords): string {
    this.startWrite(fd, staged);
    return this.settle();
  }

  clear(): void {
    this.#lines = [];
    this.#ends = [];
  }

  #joined(): Buffer {
    return Buffer.from(this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join(''));
  }
}
