// The RFC 9162 (RFC 6962) Merkle tree: leaf and node hashes, the compact range a writer keeps, and proofs.
//
// Hashes are 32-byte Buffers at the boundary; inside, the compact range keeps them as 32-bit words so
// that appending a leaf allocates nothing. Tree sizes are JavaScript numbers (up to 2^53 - 1), so every
// bit operation on a size is done with arithmetic: `&` and `>>` would cut them to 32 bits.
import { createHash, timingSafeEqual } from 'node:crypto';

import { type FoldLeaf, type FoldRecordLines, nativeMerkleFold, nativeRecordLinesFold } from '../binding';
import { bytesToWords, hexBytesToWords, hexToWords, leafWords, nodeWords, wordsToBytes } from './sha256';

export const HASH_BYTES = 32;

/** MTH({}) = SHA-256() (RFC 9162, 2.1.1): the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** SHA-256(0x00 || data): the hash of a leaf (RFC 9162, 2.1.1). */
export function leafHash(data: Uint8Array): Buffer {
  if (data.length === HASH_BYTES) {
    const words = new Int32Array(8);
    bytesToWords(data, 0, words, 0);
    leafWords(words, 0, words, 0);
    return toBuffer(words, 0);
  }
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

/** SHA-256(0x01 || left || right): the hash of a node (RFC 9162, 2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  checkHash(left, 'left');
  checkHash(right, 'right');
  const words = new Int32Array(16);
  bytesToWords(left, 0, words, 0);
  bytesToWords(right, 0, words, 8);
  nodeWords(words, 0, words, 8, words, 0);
  return toBuffer(words, 0);
}

function checkHash(hash: Uint8Array, name: string): void {
  if (hash.length !== HASH_BYTES) throw new RangeError(`${name} must be a ${HASH_BYTES}-byte hash, not ${hash.length} bytes`);
}

function toBuffer(words: Int32Array, at: number): Buffer {
  const bytes = Buffer.allocUnsafe(HASH_BYTES);
  wordsToBytes(words, at, bytes, 0);
  return bytes;
}

/** Hashes compared in constant time; false for different lengths. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The number of 1 bits of a size: how many subtree roots its compact range holds. */
function popCount(size: number): number {
  let count = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/** The largest power of two smaller than n, for n > 1 (RFC 9162, 2.1.1: the split point k). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// The most subtree roots a range can hold: one per bit of a size below 2^53.
const MAX_LEVELS = 53;

// The addon's fold (src/engine.cc: a leaf hashed and merged in one call, on OpenSSL's SHA-256), looked up
// on the first leaf; null means the JavaScript words below. Both keep the same stack.
let nativeLookup: FoldLeaf | null | undefined;
function nativeFold(): FoldLeaf | null {
  if (nativeLookup === undefined) nativeLookup = nativeMerkleFold() ?? null;
  return nativeLookup;
}

let nativeLinesLookup: FoldRecordLines | null | undefined;
function nativeLinesFold(): FoldRecordLines | null {
  if (nativeLinesLookup === undefined) nativeLinesLookup = nativeRecordLinesFold() ?? null;
  return nativeLinesLookup;
}

// The end of a record line: ,"hash":"<64 hex>"}
const HASH_FIELD = Buffer.from(',"hash":"');
const RECORD_TAIL_BYTES = HASH_FIELD.length + 64 + 2;

/** Whether bytes[end - HASH_FIELD.length - 66, end) starts with `,"hash":"` (the line is long enough). */
function hashFieldAt(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < HASH_FIELD.length; i += 1) if (bytes[at + i] !== HASH_FIELD[i]) return false;
  return true;
}

/**
 * Reads the record hash of every record line of bytes[start, end) into 8 words at out[where()] and calls
 * `found` with that offset (lines as CompactRange.appendRecordLines takes them). Returns their number.
 */
function eachRecordLine(bytes: Uint8Array, start: number, end: number, out: Int32Array, where: () => number, found?: (at: number) => void): number {
  let records = 0;
  let line = start;
  for (let newline = bytes.indexOf(0x0a, line); newline !== -1 && newline < end; newline = bytes.indexOf(0x0a, line)) {
    const tail = newline - RECORD_TAIL_BYTES;
    if (tail >= line && bytes[newline - 1] === 0x7d && bytes[newline - 2] === 0x22 && hashFieldAt(bytes, tail)) {
      const at = where();
      if (hexBytesToWords(bytes, tail + HASH_FIELD.length, out, at)) {
        records += 1;
        found?.(at);
      }
    }
    line = newline + 1;
  }
  return records;
}

/**
 * The roots of the perfect subtrees that make up a tree of `size` leaves, largest (leftmost) first: all a
 * writer needs to keep to produce the tree's root at any time, whatever the size of the log (RFC 9162,
 * 2.1.1, read from the left: each 1 bit of the size is one perfect subtree).
 */
export class CompactRange {
  #size = 0;
  #count = 0;
  // The subtree roots, 8 words each, leftmost first; room for every level a safe size can have.
  readonly #stack = new Int32Array(8 * (MAX_LEVELS + 1));
  readonly #scratch = new Int32Array(8);

  /** The number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** Appends a leaf given by its leaf hash (32 bytes, SHA-256(0x00 || data)). */
  append(leafHashBytes: Uint8Array): void {
    checkHash(leafHashBytes, 'leafHash');
    const at = 8 * this.#count;
    bytesToWords(leafHashBytes, 0, this.#stack, at);
    const fold = nativeFold();
    if (fold !== null) this.#folded(fold(this.#stack, this.#count, this.#size, this.#stack, at, true));
    else this.#push();
  }

  /**
   * Appends the leaf whose data is a log record's hash: 64 hex digits as the record carries it, or its 32
   * bytes. The leaf hash is SHA-256(0x00 || the 32 bytes).
   */
  appendRecordHash(recordHash: string | Uint8Array): void {
    const at = 8 * this.#count;
    const fold = nativeFold();
    if (fold !== null && typeof recordHash === 'string') {
      // The addon reads the digits itself: cheaper than turning them into words here.
      const count = fold(this.#stack, this.#count, this.#size, recordHash, 0, false);
      if (count < 0) throw new RangeError('a record hash must be 64 lowercase hex digits');
      this.#folded(count);
      return;
    }
    if (typeof recordHash === 'string') {
      if (!hexToWords(recordHash, this.#stack, at)) throw new RangeError('a record hash must be 64 lowercase hex digits');
    } else {
      checkHash(recordHash, 'recordHash');
      bytesToWords(recordHash, 0, this.#stack, at);
    }
    if (fold !== null) {
      this.#folded(fold(this.#stack, this.#count, this.#size, this.#stack, at, false));
      return;
    }
    leafWords(this.#stack, at, this.#stack, at);
    this.#push();
  }

  /**
   * Folds leaves in with a native fold that takes this range's stack and size and returns the new size
   * (the addon's RecordBuffer folds its pending records this way). Returns how many leaves were added.
   */
  appendWith(fold: (stack: Int32Array, size: number) => number): number {
    const before = this.#size;
    const size = fold(this.#stack, before);
    this.#size = size;
    this.#count = popCount(size);
    return size - before;
  }

  /**
   * Appends the record of every complete line of bytes[start, end) that ends as a record line does,
   * `,"hash":"` + 64 lowercase hex digits + `"}`, in order: the writer's bytes just written, folded in one
   * native call. Other lines (a "~" line, ...) and the bytes after the last newline are skipped; nothing
   * here checks that a line's hash is its record's. Returns the number of records appended.
   */
  appendRecordLines(bytes: Uint8Array, start = 0, end = bytes.length): number {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= bytes.length)) {
      throw new RangeError(`bad start ${start} or end ${end} for ${bytes.length} bytes`);
    }
    const before = this.#size;
    const fold = nativeLinesFold();
    if (fold !== null) {
      const size = fold(this.#stack, before, bytes, start, end);
      this.#size = size;
      this.#count = popCount(size);
      return size - before;
    }
    if (before + (end - start) > Number.MAX_SAFE_INTEGER && before + eachRecordLine(bytes, start, end, this.#scratch, () => 0) > Number.MAX_SAFE_INTEGER) {
      throw new RangeError('a compact range cannot pass 2^53 - 1 leaves');
    }
    const stack = this.#stack;
    eachRecordLine(bytes, start, end, stack, () => 8 * this.#count, (at) => {
      leafWords(stack, at, stack, at);
      this.#push();
    });
    return this.#size - before;
  }

  /** Appends a record hash already in words (8 at `words[at]`): the file readers' path. */
  appendRecordWords(words: Int32Array, at: number): void {
    const fold = nativeFold();
    if (fold !== null) {
      this.#folded(fold(this.#stack, this.#count, this.#size, words, at, false));
      return;
    }
    leafWords(words, at, this.#stack, 8 * this.#count);
    this.#push();
  }

  // The addon pushed the leaf and merged: it returns the new number of subtree roots.
  #folded(count: number): void {
    this.#count = count;
    this.#size += 1;
  }

  // The new leaf is on top of the stack: merge equal-sized neighbours, one per trailing 1 bit of the old size.
  #push(): void {
    let count = this.#count + 1;
    const stack = this.#stack;
    for (let size = this.#size; size % 2 === 1; size = (size - 1) / 2) {
      const right = 8 * (count - 1);
      const left = right - 8;
      nodeWords(stack, left, stack, right, stack, left);
      count -= 1;
    }
    this.#count = count;
    this.#size += 1;
  }

  /** MTH of the leaves appended so far; EMPTY_ROOT for none. */
  root(): Buffer {
    if (this.#count === 0) return Buffer.from(EMPTY_ROOT);
    const acc = this.#scratch;
    acc.set(this.#stack.subarray(8 * (this.#count - 1), 8 * this.#count));
    for (let i = this.#count - 2; i >= 0; i -= 1) nodeWords(this.#stack, 8 * i, acc, 0, acc, 0);
    return toBuffer(acc, 0);
  }

  /** The subtree roots, leftmost (largest) first: popcount(size) hashes. */
  hashes(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < this.#count; i += 1) out.push(toBuffer(this.#stack, 8 * i));
    return out;
  }

  /** The range as it can be stored in a record: the size and the subtree roots in lowercase hex. */
  toJSON(): { size: number; hashes: string[] } {
    return { size: this.#size, hashes: this.hashes().map((hash) => hash.toString('hex')) };
  }

  clone(): CompactRange {
    const copy = new CompactRange();
    copy.#size = this.#size;
    copy.#count = this.#count;
    copy.#stack.set(this.#stack);
    return copy;
  }

  /**
   * A range from its size and subtree roots (hex strings or 32-byte buffers), as toJSON() gave them.
   * Throws a RangeError when the number of hashes is not the number of 1 bits of the size.
   */
  static from(size: number, hashes: readonly (string | Uint8Array)[]): CompactRange {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`a compact range's size must be a safe integer >= 0, not ${size}`);
    if (!Array.isArray(hashes)) throw new TypeError('hashes must be an array');
    const expected = popCount(size);
    if (hashes.length !== expected) throw new RangeError(`a compact range of size ${size} holds ${expected} hashes, not ${hashes.length}`);
    const range = new CompactRange();
    hashes.forEach((hash, i) => {
      if (typeof hash === 'string') {
        if (!hexToWords(hash, range.#stack, 8 * i)) throw new RangeError(`hash ${i} must be 64 lowercase hex digits`);
      } else {
        checkHash(hash, `hash ${i}`);
        bytesToWords(hash, 0, range.#stack, 8 * i);
      }
    });
    range.#size = size;
    range.#count = expected;
    return range;
  }
}

/** MTH(D[n]) over leaf hashes (RFC 9162, 2.1.1). */
export function rootFromLeaves(leafHashes: readonly Uint8Array[]): Buffer {
  const range = new CompactRange();
  for (const hash of leafHashes) range.append(hash);
  return range.root();
}

/** [start, end): leaves start to end - 1. */
export type LeafRange = readonly [start: number, end: number];

/** Returns MTH(D[start:end]), the root of the leaves in [start, end) (end > start). */
export type SubtreeHasher = (start: number, end: number) => Uint8Array;

/**
 * The subtrees whose roots make the inclusion proof of leaf `index` in a tree of `size` leaves, in proof
 * order (from the leaf's sibling up to the root's child): RFC 9162, 2.1.3.1, PATH(m, D[n]).
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf index ${index} is not in a tree of ${size} leaves`);
  const ranges: LeafRange[] = [];
  // Walk from the root down, collecting the sibling at each split; the proof lists them bottom-up.
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
    }
  }
  return ranges.reverse();
}

/**
 * The subtrees whose roots make the consistency proof from `oldSize` to `newSize` leaves, in proof order:
 * RFC 9162, 2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true). Empty when the sizes are equal or oldSize is 0.
 */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!(oldSize >= 0 && oldSize <= newSize)) throw new RangeError(`a consistency proof needs 0 <= oldSize <= newSize, not ${oldSize} and ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = newSize;
  let m = oldSize;
  let complete = true; // b in SUBPROOF: whether the subtree [start, start + m) is a whole old tree's root
  for (;;) {
    if (m === end - start) {
      if (!complete) ranges.push([start, end]);
      break;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
      complete = false;
    }
  }
  return ranges.reverse();
}

export function inclusionProof(index: number, size: number, subtree: SubtreeHasher): Buffer[] {
  return inclusionRanges(index, size).map(([start, end]) => Buffer.from(subtree(start, end)));
}

export function consistencyProof(oldSize: number, newSize: number, subtree: SubtreeHasher): Buffer[] {
  return consistencyRanges(oldSize, newSize).map(([start, end]) => Buffer.from(subtree(start, end)));
}

/** A SubtreeHasher over leaf hashes held in memory. */
export function subtreeOfLeaves(leafHashes: readonly Uint8Array[]): SubtreeHasher {
  return (start, end) => rootFromLeaves(leafHashes.slice(start, end));
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * The root an inclusion proof leads to, or null when the proof cannot be one for this index and size
 * (RFC 9162, 2.1.3.2, steps 1 to 5 without the final comparison).
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer | null {
  if (!(index >= 0 && index < size) || leaf.length !== HASH_BYTES) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (p.length !== HASH_BYTES || sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

/** RFC 9162, 2.1.3.2: whether `proof` shows the leaf with hash `leaf` at `index` in the tree with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  return computed !== null && sameHash(computed, root);
}

/**
 * RFC 9162, 2.1.4.2: whether `proof` shows that the tree of `oldSize` leaves with `oldRoot` is a prefix of
 * the tree of `newSize` leaves with `newRoot`. Equal sizes need equal roots and an empty proof. A proof
 * from the empty tree proves nothing and is refused, as transparency-dev/merkle does: the caller decides
 * what an empty old tree means.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(oldSize >= 0 && oldSize <= newSize) || oldSize === 0) return false;
  if (oldSize === newSize) return proof.length === 0 && sameHash(oldRoot, newRoot);
  if (proof.length === 0 || oldRoot.length !== HASH_BYTES || newRoot.length !== HASH_BYTES) return false;
  if (proof.some((hash) => hash.length !== HASH_BYTES)) return false;

  // Step 2: when the old tree is a perfect subtree its root is the proof's first node, left implicit.
  const path = splitPoint(oldSize * 2) === oldSize ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(fr, oldRoot) && sameHash(sr, newRoot);
}
