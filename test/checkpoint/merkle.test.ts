// The RFC 9162 tree against transparency-dev/merkle's published roots and proof vectors, and against itself.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  CompactRange,
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeaves,
  subtreeOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from '../../lib/checkpoint/merkle';
import { bytesToWords, leafWords, nodeWords, wordsToBytes } from '../../lib/checkpoint/sha256';

const VECTORS = join(__dirname, '..', 'vectors', 'tlog');
const roots = JSON.parse(readFileSync(join(VECTORS, 'transparency-dev-roots.json'), 'utf8')) as { leafInputs: string[]; roots: string[] };
const proofs = JSON.parse(readFileSync(join(VECTORS, 'transparency-dev-proofs.json'), 'utf8')) as {
  inclusion: Record<string, { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; wantErr: boolean }>;
  consistency: Record<string, { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; wantErr: boolean }>;
};
const b64 = (text: string): Buffer => Buffer.from(text, 'base64');
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

describe('hashes', () => {
  it('the empty tree is SHA-256 of nothing', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new CompactRange().root()).toEqual(EMPTY_ROOT);
    expect(rootFromLeaves([])).toEqual(EMPTY_ROOT);
  });

  it('leaf and node hashes are SHA-256 with the 0x00 and 0x01 prefixes (random inputs, against node:crypto)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (left, right) => {
        expect(leafHash(left)).toEqual(sha256(Buffer.of(0), left));
        expect(nodeHash(left, right)).toEqual(sha256(Buffer.of(1), left, right));
      }),
      { numRuns: 300 },
    );
    expect(leafHash(Buffer.from('abc'))).toEqual(sha256(Buffer.of(0), Buffer.from('abc')));
  });

  it('the word-level SHA-256 writes in place without disturbing its inputs', () => {
    const words = new Int32Array(16);
    const left = randomBytes(32);
    const right = randomBytes(32);
    bytesToWords(left, 0, words, 0);
    bytesToWords(right, 0, words, 8);
    nodeWords(words, 0, words, 8, words, 8);
    const out = Buffer.alloc(32);
    wordsToBytes(words, 8, out, 0);
    expect(out).toEqual(sha256(Buffer.of(1), left, right));
    leafWords(words, 0, words, 0);
    wordsToBytes(words, 0, out, 0);
    expect(out).toEqual(sha256(Buffer.of(0), left));
  });
});

describe('roots of transparency-dev/merkle testonly trees', () => {
  const leaves = roots.leafInputs.map((hex) => leafHash(Buffer.from(hex, 'hex')));
  it.each(roots.roots.map((root, size) => [size, root] as const))('size %i', (size, root) => {
    expect(rootFromLeaves(leaves.slice(0, size)).toString('hex')).toBe(root);
    const range = new CompactRange();
    for (const leaf of leaves.slice(0, size)) range.append(leaf);
    expect(range.size).toBe(size);
    expect(range.root().toString('hex')).toBe(root);
  });
});

describe('transparency-dev/merkle inclusion vectors', () => {
  it.each(Object.entries(proofs.inclusion))('%s', (_name, vector) => {
    const proof = (vector.proof ?? []).map(b64);
    const ok = verifyInclusion(vector.leafIdx, vector.treeSize, b64(vector.leafHash), proof, b64(vector.root));
    expect(ok).toBe(!vector.wantErr);
  });
});

describe('transparency-dev/merkle consistency vectors', () => {
  it.each(Object.entries(proofs.consistency))('%s', (_name, vector) => {
    const proof = (vector.proof ?? []).map(b64);
    const ok = verifyConsistency(vector.size1, vector.size2, b64(vector.root1), b64(vector.root2), proof);
    expect(ok).toBe(!vector.wantErr);
  });
});

describe('proofs of small trees, at every index and every pair of sizes', () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(sha256(Buffer.from(`record ${i}`))));

  it('inclusion: generated proofs verify, and fail for another index or leaf, an extra hash, an index past the end', () => {
    for (let size = 1; size <= 40; size += 1) {
      const tree = leaves.slice(0, size);
      const root = rootFromLeaves(tree);
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(index, size, subtreeOfLeaves(tree));
        expect(verifyInclusion(index, size, tree[index]!, proof, root)).toBe(true);
        if (size > 1) {
          expect(verifyInclusion((index + 1) % size, size, tree[index]!, proof, root)).toBe(false);
          expect(verifyInclusion(index, size, tree[(index + 1) % size]!, proof, root)).toBe(false);
        }
        expect(verifyInclusion(index, size, tree[index]!, [...proof, root], root)).toBe(false);
        expect(verifyInclusion(size, size, tree[index]!, proof, root)).toBe(false);
      }
    }
  });

  it('size 1: the proof is empty and the root is the leaf', () => {
    expect(inclusionProof(0, 1, subtreeOfLeaves(leaves))).toEqual([]);
    expect(verifyInclusion(0, 1, leaves[0]!, [], leaves[0]!)).toBe(true);
    expect(() => inclusionProof(0, 0, subtreeOfLeaves(leaves))).toThrow(RangeError);
  });

  it('consistency: generated proofs verify, and fail for a changed old tree or a changed hash', () => {
    for (let newSize = 1; newSize <= 40; newSize += 1) {
      const newRoot = rootFromLeaves(leaves.slice(0, newSize));
      for (let oldSize = 1; oldSize <= newSize; oldSize += 1) {
        const oldRoot = rootFromLeaves(leaves.slice(0, oldSize));
        const proof = consistencyProof(oldSize, newSize, subtreeOfLeaves(leaves));
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
        const changed = [...leaves.slice(0, oldSize - 1), leafHash(Buffer.alloc(32, 9))];
        expect(verifyConsistency(oldSize, newSize, rootFromLeaves(changed), newRoot, proof)).toBe(oldSize === newSize && false);
        if (proof.length > 0) {
          const bad = proof.map((hash, i) => (i === proof.length - 1 ? Buffer.from(hash).fill(0, 0, 1) : hash));
          if (!bad[bad.length - 1]!.equals(proof[proof.length - 1]!)) expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, bad)).toBe(false);
        }
      }
    }
  });

  it('consistency from the empty tree is empty, and the low-level check refuses it (as transparency-dev does)', () => {
    expect(consistencyProof(0, 5, subtreeOfLeaves(leaves))).toEqual([]);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, rootFromLeaves(leaves.slice(0, 5)), [])).toBe(false);
  });
});

describe('CompactRange', () => {
  it('holds one hash per 1 bit of its size, and round-trips through toJSON / from', () => {
    const range = new CompactRange();
    for (let i = 0; i < 300; i += 1) {
      const json = range.toJSON();
      expect(json.size).toBe(i);
      expect(json.hashes.length).toBe(i.toString(2).split('').filter((bit) => bit === '1').length);
      const copy = CompactRange.from(json.size, json.hashes);
      expect(copy.root()).toEqual(range.root());
      range.appendRecordHash(sha256(Buffer.from(`r${i}`)).toString('hex'));
    }
  });

  it('a restored range continues exactly like the one it was saved from', () => {
    const a = new CompactRange();
    const hashes = Array.from({ length: 77 }, (_, i) => sha256(Buffer.from(`x${i}`)));
    hashes.slice(0, 45).forEach((hash) => a.appendRecordHash(hash));
    const b = CompactRange.from(a.size, a.toJSON().hashes);
    const c = a.clone();
    for (const hash of hashes.slice(45)) {
      a.appendRecordHash(hash);
      b.appendRecordHash(hash.toString('hex'));
      c.appendRecordHash(hash);
    }
    expect(b.root()).toEqual(a.root());
    expect(c.root()).toEqual(a.root());
    expect(a.root()).toEqual(rootFromLeaves(hashes.map((hash) => leafHash(hash))));
  });

  it('refuses a wrong number of hashes, bad hex and bad record hashes', () => {
    expect(() => CompactRange.from(3, ['00'.repeat(32)])).toThrow(RangeError);
    expect(() => CompactRange.from(1, ['zz'.repeat(32)])).toThrow(RangeError);
    expect(() => CompactRange.from(-1, [])).toThrow(RangeError);
    expect(() => new CompactRange().appendRecordHash('AB'.repeat(32))).toThrow(RangeError);
    expect(() => new CompactRange().appendRecordHash(Buffer.alloc(31))).toThrow(RangeError);
    expect(() => new CompactRange().append(Buffer.alloc(33))).toThrow(RangeError);
  });
});
