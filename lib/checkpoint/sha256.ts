// SHA-256 of the two fixed-size inputs of an RFC 6962 tree (a 32-byte leaf's hash, a node's hash), on 32-bit words.
//
// A Merkle tree costs a SHA-256 per leaf and one per node, each of 33 or 65 bytes. Through node:crypto
// every one of those calls crosses into C++ and allocates (over a microsecond each on Node 20), which is
// more than the hashing; here the message blocks are built straight from words and hashed in place, with
// no allocation, so a tree costs three 64-byte compressions per leaf and nothing else (FIPS 180-4, 6.2).

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

// The message schedule, shared: every call fills W[0..15] and compresses before returning.
const W = new Int32Array(64);

/** One compression of the block in W[0..15] into the state held in `h` at `at` (8 words). */
function compress(h: Int32Array, at: number): void {
  for (let i = 16; i < 64; i += 1) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[at]!;
  let b = h[at + 1]!;
  let c = h[at + 2]!;
  let d = h[at + 3]!;
  let e = h[at + 4]!;
  let f = h[at + 5]!;
  let g = h[at + 6]!;
  let k = h[at + 7]!;
  for (let i = 0; i < 64; i += 1) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[at] = (h[at]! + a) | 0;
  h[at + 1] = (h[at + 1]! + b) | 0;
  h[at + 2] = (h[at + 2]! + c) | 0;
  h[at + 3] = (h[at + 3]! + d) | 0;
  h[at + 4] = (h[at + 4]! + e) | 0;
  h[at + 5] = (h[at + 5]! + f) | 0;
  h[at + 6] = (h[at + 6]! + g) | 0;
  h[at + 7] = (h[at + 7]! + k) | 0;
}

/**
 * SHA-256(0x00 || data) for 32 bytes of data given as 8 big-endian words at `src[from]`, written as 8
 * words at `out[at]` (which may be the same place). RFC 9162, 2.1.1: the hash of a leaf.
 */
export function leafWords(src: Int32Array, from: number, out: Int32Array, at: number): void {
  // 33 bytes: the 0x00 prefix shifts the data one byte right; then 0x80 and the length, 264 bits.
  let carry = 0;
  for (let i = 0; i < 8; i += 1) {
    const word = src[from + i]!;
    W[i] = (carry << 24) | (word >>> 8);
    carry = word & 0xff;
  }
  W[8] = (carry << 24) | 0x00800000;
  W[9] = 0;
  W[10] = 0;
  W[11] = 0;
  W[12] = 0;
  W[13] = 0;
  W[14] = 0;
  W[15] = 264;
  out.set(IV, at);
  compress(out, at);
}

/**
 * SHA-256(0x01 || left || right) for two hashes of 8 words each, written as 8 words at `out[at]` (which
 * may overlap either input: both are read before it is written). RFC 9162, 2.1.1: the hash of a node.
 */
export function nodeWords(left: Int32Array, leftAt: number, right: Int32Array, rightAt: number, out: Int32Array, at: number): void {
  // 65 bytes: the 0x01 prefix shifts both hashes one byte right, so the last byte of `right` opens the
  // second block, followed by 0x80 and the length, 520 bits.
  let carry = 1;
  for (let i = 0; i < 8; i += 1) {
    const word = left[leftAt + i]!;
    W[i] = (carry << 24) | (word >>> 8);
    carry = word & 0xff;
  }
  for (let i = 0; i < 8; i += 1) {
    const word = right[rightAt + i]!;
    W[8 + i] = (carry << 24) | (word >>> 8);
    carry = word & 0xff;
  }
  const state = STATE;
  state.set(IV, 0);
  compress(state, 0);
  W[0] = (carry << 24) | 0x00800000;
  W.fill(0, 1, 15);
  W[15] = 520;
  compress(state, 0);
  out.set(state, at);
}

const STATE = new Int32Array(8);

/** 32 bytes as 8 big-endian words at `out[at]`. */
export function bytesToWords(bytes: Uint8Array, from: number, out: Int32Array, at: number): void {
  for (let i = 0; i < 8; i += 1) {
    const p = from + 4 * i;
    out[at + i] = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
  }
}

/** 8 words at `src[from]` as 32 bytes at `out[at]`. */
export function wordsToBytes(src: Int32Array, from: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < 8; i += 1) {
    const word = src[from + i]!;
    const p = at + 4 * i;
    out[p] = word >>> 24;
    out[p + 1] = (word >>> 16) & 0xff;
    out[p + 2] = (word >>> 8) & 0xff;
    out[p + 3] = word & 0xff;
  }
}

// The value of each lowercase hex digit, -1 for every other byte (the log writes lowercase only).
const HEX_VALUE = new Int32Array(256).fill(-1);
for (let i = 0; i < 10; i += 1) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i += 1) HEX_VALUE[0x61 + i] = 10 + i;

/**
 * 64 lowercase hex digits at `text[from]` (bytes of a line) as 8 words at `out[at]`. Returns false, leaving
 * `out` undefined, when any of them is not a lowercase hex digit.
 */
export function hexBytesToWords(text: Uint8Array, from: number, out: Int32Array, at: number): boolean {
  let bad = 0;
  let p = from;
  for (let i = 0; i < 8; i += 1) {
    let word = 0;
    for (let j = 0; j < 8; j += 1) {
      const value = HEX_VALUE[text[p++]!]!;
      bad |= value;
      word = (word << 4) | value;
    }
    out[at + i] = word;
  }
  return bad >= 0;
}

/** A 64-digit lowercase hex string as 8 words at `out[at]`; false when it is not one. */
export function hexToWords(hex: string, out: Int32Array, at: number): boolean {
  if (hex.length !== 64) return false;
  let bad = 0;
  let p = 0;
  for (let i = 0; i < 8; i += 1) {
    let word = 0;
    for (let j = 0; j < 8; j += 1) {
      const code = hex.charCodeAt(p++);
      const value = code < 256 ? HEX_VALUE[code]! : -1;
      bad |= value;
      word = (word << 4) | value;
    }
    out[at + i] = word;
  }
  return bad >= 0;
}
