// One record format and one tree: the addon's encoder and Merkle fold (src/engine.cc) against the
// JavaScript ones on random input, in this process and with the native paths switched off in a child.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { loadBinding, platformCapabilities } from '../lib/binding';
import { CompactRange, EMPTY_ROOT, leafHash } from '../lib/checkpoint/merkle';
import { hexToWords } from '../lib/checkpoint/sha256';
import { encodeRecord, encodeRecordJs, hashMatches, parseLine, type RecordFields, type RecordType, signatureMatches, type SigningKey } from '../lib/log/format';

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');

const TYPES: RecordType[] = ['data', 'recovery', 'seal', 'prune', 'checkpoint'];
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
const seq = fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1));
// Timestamps of years 0 to 9999: the form the format's readers take.
const timestamp = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((date) => date.toISOString());
const keyId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
// Secrets of every length around the SHA-256 block: shorter ones are padded, longer ones hashed first.
const secret = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 63, maxLength: 65 })).map((bytes) => Buffer.from(bytes));
const key: fc.Arbitrary<SigningKey | null> = fc.option(fc.record({ id: keyId, secret }), { nil: null });
// Data as JSON.stringify gives it, with strings over all of Unicode (astral planes, controls, quotes).
const dataJson = fc.oneof(
  fc.jsonValue({ stringUnit: 'binary' }).map((value) => JSON.stringify(value)),
  fc.jsonValue({ stringUnit: 'grapheme' }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 3000 }).map((text) => JSON.stringify({ text })),
);
const fields: fc.Arbitrary<RecordFields> = fc.record({
  seq,
  ts: timestamp,
  prev: hex64,
  type: fc.constantFrom(...TYPES),
  keyId: fc.constant(null),
  dataJson,
});

describe('the native record encoder', () => {
  it('is there on this machine (else every comparison below would compare the JavaScript path with itself)', () => {
    expect(platformCapabilities()).toMatchObject({ nativeEncode: true, nativeMerkle: true });
  });

  it('writes the JavaScript line and hash byte for byte, signed and unsigned, for random records', () => {
    fc.assert(
      fc.property(fields, key, (record, signing) => {
        const native = encodeRecord(record, signing);
        const reference = encodeRecordJs(record, signing);
        expect(native.line).toBe(reference.line);
        expect(native.hash).toBe(reference.hash);
        const parsed = parseLine(Buffer.from(native.line.slice(0, -1)));
        expect(parsed).not.toBeNull();
        expect(hashMatches(parsed!)).toBe(true);
        if (signing !== null) expect(signatureMatches(parsed!, signing.secret)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the same bytes for any text in any field, lone surrogates included', () => {
    const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 80 });
    fc.assert(
      fc.property(seq, anyText, anyText, fc.constantFrom(...TYPES), anyText, fc.option(fc.record({ id: anyText, secret }), { nil: null }), (n, ts, prev, type, data, signing) => {
        const record = { seq: n, ts, prev, type, keyId: null, dataJson: data };
        const native = encodeRecord(record, signing);
        const reference = encodeRecordJs(record, signing);
        expect(Buffer.from(native.line)).toEqual(Buffer.from(reference.line));
        expect(native.hash).toBe(reference.hash);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps a key across records and notices a secret changed in place', () => {
    const signing = { id: 'k1', secret: Buffer.alloc(32, 7) };
    const record = { seq: 1, ts: '2026-11-22T04:40:15.123Z', prev: '0'.repeat(64), type: 'data' as const, keyId: null, dataJson: '{"a":1}' };
    expect(encodeRecord(record, signing)).toEqual(encodeRecordJs(record, signing));
    expect(encodeRecord(record, signing)).toEqual(encodeRecordJs(record, signing));
    signing.secret.fill(9);
    expect(encodeRecord(record, signing)).toEqual(encodeRecordJs(record, signing));
  });

  it('leaves to JavaScript what it does not take: a seq past 2^53, a fractional or negative one', () => {
    for (const n of [2 ** 53, 1.5, -1, Number.NaN]) {
      const record = { seq: n, ts: '2026-11-22T04:40:15.123Z', prev: '0'.repeat(64), type: 'data' as const, keyId: null, dataJson: '1' };
      expect(encodeRecord(record, null)).toEqual(encodeRecordJs(record, null));
    }
  });

  it('refuses bad arguments when called directly', () => {
    const binding = loadBinding().binding!;
    const encode = binding.encodeRecord!;
    const prev = '0'.repeat(64);
    expect(() => encode(-1, 't', prev, null, null, '1', null)).toThrow(RangeError);
    expect(() => encode(2 ** 53, 't', prev, null, null, '1', null)).toThrow(RangeError);
    expect(() => encode(1, 't', prev, null, null, 1 as unknown as string, null)).toThrow(TypeError);
    expect(() => encode(1, 't', prev, null, 'k', '1', {} as never)).toThrow(TypeError);
    expect(() => binding.hmacKey!('secret' as unknown as Buffer)).toThrow(TypeError);
  });

  it('FS_APPEND_ONLY_NATIVE_ENCODE=0 withholds the encoder, and the JavaScript path writes the same lines', () => {
    const records = fc.sample(fc.tuple(fields, key), { numRuns: 300, seed: 42 });
    const script = `
      const { encodeRecord } = require(${JSON.stringify(join(DIST, 'log', 'format.js'))});
      const { platformCapabilities } = require(${JSON.stringify(join(DIST, 'binding.js'))});
      const records = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const lines = records.map(([fields, key]) => encodeRecord(fields, key && { id: key.id, secret: Buffer.from(key.secret, 'hex') }));
      console.log(JSON.stringify({ nativeEncode: platformCapabilities().nativeEncode, lines }));`;
    const input = JSON.stringify(records.map(([record, signing]) => [record, signing && { id: signing.id, secret: signing.secret.toString('hex') }]));
    const result = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8', env: { ...process.env, FS_APPEND_ONLY_NATIVE_ENCODE: '0' }, maxBuffer: 64 << 20, timeout: 60_000 });
    if (result.status !== 0) throw new Error(result.stderr);
    const child = JSON.parse(result.stdout) as { nativeEncode: boolean; lines: { line: string; hash: string }[] };
    expect(child.nativeEncode).toBe(false);
    expect(child.lines).toEqual(records.map(([record, signing]) => encodeRecord(record, signing)));
  });
});

// MTH(D[n]) straight from RFC 9162, 2.1.1, with node:crypto: a reference that shares no code with the tree.
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Buffer.of(0), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

type Step = { via: 'hex' | 'bytes' | 'words' | 'leafHash'; hash: Buffer };
const step: fc.Arbitrary<Step> = fc.record({ via: fc.constantFrom('hex', 'bytes', 'words', 'leafHash'), hash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)) });

function appendStep(range: CompactRange, { via, hash }: Step): void {
  if (via === 'hex') range.appendRecordHash(hash.toString('hex'));
  else if (via === 'bytes') range.appendRecordHash(hash);
  else if (via === 'leafHash') range.append(leafHash(hash));
  else {
    const words = new Int32Array(24);
    hexToWords(hash.toString('hex'), words, 8);
    range.appendRecordWords(words, 8);
  }
}

// The same steps in a child on the JavaScript fold alone: the range's JSON and root after each sequence.
function rangesInJsChild(cases: { from: { size: number; hashes: string[] } | null; steps: Step[] }[]): { nativeMerkle: boolean; ranges: { json: unknown; root: string }[] } {
  const script = `
    const { CompactRange, leafHash } = require(${JSON.stringify(join(DIST, 'checkpoint', 'merkle.js'))});
    const { hexToWords } = require(${JSON.stringify(join(DIST, 'checkpoint', 'sha256.js'))});
    const { platformCapabilities } = require(${JSON.stringify(join(DIST, 'binding.js'))});
    const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const ranges = cases.map(({ from, steps }) => {
      const range = from === null ? new CompactRange() : CompactRange.from(from.size, from.hashes);
      for (const { via, hash } of steps) {
        const bytes = Buffer.from(hash, 'hex');
        if (via === 'hex') range.appendRecordHash(hash);
        else if (via === 'bytes') range.appendRecordHash(bytes);
        else if (via === 'leafHash') range.append(leafHash(bytes));
        else { const words = new Int32Array(24); hexToWords(hash, words, 8); range.appendRecordWords(words, 8); }
      }
      return { json: range.toJSON(), root: range.root().toString('hex') };
    });
    console.log(JSON.stringify({ nativeMerkle: platformCapabilities().nativeMerkle, ranges }));`;
  const input = JSON.stringify(cases.map(({ from, steps }) => ({ from, steps: steps.map(({ via, hash }) => ({ via, hash: hash.toString('hex') })) })));
  const result = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8', env: { ...process.env, FS_APPEND_ONLY_NATIVE_MERKLE: '0' }, maxBuffer: 64 << 20, timeout: 60_000 });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as { nativeMerkle: boolean; ranges: { json: unknown; root: string }[] };
}

describe('the native Merkle fold', () => {
  it('gives the RFC 9162 root and subtree roots after every leaf (random record hashes, every way in)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 70 }), (steps) => {
        const range = new CompactRange();
        const leaves: Buffer[] = [];
        expect(range.root()).toEqual(EMPTY_ROOT);
        for (const s of steps) {
          appendStep(range, s);
          leaves.push(s.hash);
          expect(range.size).toBe(leaves.length);
          expect(range.root()).toEqual(mth(leaves));
        }
        expect(CompactRange.from(range.size, range.toJSON().hashes).root()).toEqual(mth(leaves));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the transparency-dev roots', () => {
    const roots = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'tlog', 'transparency-dev-roots.json'), 'utf8')) as { leafInputs: string[]; roots: string[] };
    const range = new CompactRange();
    expect(range.root().toString('hex')).toBe(roots.roots[0]);
    roots.leafInputs.slice(0, roots.roots.length - 1).forEach((input, i) => {
      range.append(leafHash(Buffer.from(input, 'hex')));
      expect(range.root().toString('hex')).toBe(roots.roots[i + 1]);
    });
    expect(range.size).toBe(roots.roots.length - 1);
  });

  it('keeps the same ranges as the JavaScript fold (FS_APPEND_ONLY_NATIVE_MERKLE=0 in a child), from empty and from large sizes', () => {
    const sizes = fc.oneof(fc.nat({ max: 5000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(2 ** 40 - 1, 2 ** 52 - 1, Number.MAX_SAFE_INTEGER - 300));
    const start = fc.option(
      sizes.chain((size) => {
        let count = 0;
        for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
        return fc.array(hex64, { minLength: count, maxLength: count }).map((hashes) => ({ size, hashes }));
      }),
      { nil: null },
    );
    const cases = fc.sample(fc.record({ from: start, steps: fc.array(step, { maxLength: 300 }) }), { numRuns: 200, seed: 7 });
    const child = rangesInJsChild(cases);
    expect(child.nativeMerkle).toBe(false);
    cases.forEach(({ from, steps }, i) => {
      const range = from === null ? new CompactRange() : CompactRange.from(from.size, from.hashes);
      for (const s of steps) appendStep(range, s);
      expect({ json: range.toJSON(), root: range.root().toString('hex') }).toEqual(child.ranges[i]);
    });
  });

  it('refuses a record hash that is not 64 lowercase hex digits, and keeps the range as it was', () => {
    const range = new CompactRange();
    range.appendRecordHash('ab'.repeat(32));
    const before = range.toJSON();
    // U+0130 and U+0161 end in the bytes of '0' and 'a': read by their low byte they would pass.
    for (const bad of ['\u0130' + '0'.repeat(63), '\u0161'.repeat(64), 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'g'.repeat(64), '']) {
      expect(() => range.appendRecordHash(bad)).toThrow(RangeError);
    }
    expect(range.toJSON()).toEqual(before);
  });

  it('refuses a stack, count or size that do not fit when called directly', () => {
    const fold = loadBinding().binding!.foldLeaf!;
    const stack = new Int32Array(8 * 54);
    const words = new Int32Array(8);
    expect(fold(stack, 0, 0, words, 0, false)).toBe(1);
    expect(() => fold(stack, 0, 1, words, 0, false)).toThrow(RangeError); // size 1 needs one root to merge with
    expect(() => fold(stack, 54, 0, words, 0, false)).toThrow(RangeError);
    expect(() => fold(stack, 0, 0, words, 1, false)).toThrow(RangeError);
    expect(() => fold(stack, 0, 2 ** 53, words, 0, false)).toThrow(RangeError);
    expect(() => fold(new Float64Array(8) as unknown as Int32Array, 0, 0, words, 0, false)).toThrow(TypeError);
  });
});
