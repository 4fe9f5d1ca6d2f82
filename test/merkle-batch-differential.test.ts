// The batch fold of written record lines (CompactRange.appendRecordLines: foldRecordLines in
// src/engine.cc, or its JavaScript loop) against folding the same record hashes one at a time, on random
// buffers of record and other lines, in this process and with the native paths switched off in a child.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { loadBinding, platformCapabilities } from '../lib/binding';
import { CompactRange } from '../lib/checkpoint/merkle';

const DIST = join(resolve(__dirname, '..'), 'dist');

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));

// Lines as a log's bytes may hold them: records, and lines that must not count as one.
const recordLine = fc.tuple(fc.nat({ max: 1e9 }), fc.string({ maxLength: 40 }), hex64).map(([seq, text, hash]) => `{"seq":${seq},"data":${JSON.stringify(text)},"hash":"${hash}"}`);
const otherLine = fc.oneof(
  fc.constant(''),
  fc.constant('~'),
  fc.string({ maxLength: 80 }),
  hex64.map((hash) => `{"seq":1,"hash":"${hash}"}~`), // a closed crash piece
  hex64.map((hash) => `,"hash":"${hash}"`), // no closing brace
  hex64.map((hash) => `,"hash":"${hash.toUpperCase()}"}`), // not lowercase
  hex64.map((hash) => `{"hash":"${hash.slice(1)}"}`), // 63 digits
  hex64.map((hash) => `{"seq":1,"hash" :"${hash}"}`), // not the field as written
  hex64.map((hash) => `{"seq":1,"hosh":"${hash}"}`),
  hex64.map((hash) => `{"seq":1,"hash":"${hash.slice(0, 63)}g"}`),
);
const line = fc.oneof({ weight: 3, arbitrary: recordLine }, { weight: 2, arbitrary: otherLine });

/** The buffer, and the [start, end) of it to fold: whole lines, a partial last line, or any cut. */
const chunk = fc
  .tuple(fc.array(line, { maxLength: 60 }), fc.option(fc.oneof(recordLine, otherLine), { nil: null }), fc.boolean(), fc.nat(), fc.nat())
  .map(([lines, partial, cut, a, b]) => {
    const bytes = Buffer.from(lines.map((text) => `${text}\n`).join('') + (partial ?? ''));
    if (!cut) return { bytes, start: 0, end: bytes.length };
    const [start, end] = [a % (bytes.length + 1), b % (bytes.length + 1)].sort((x, y) => x - y) as [number, number];
    return { bytes, start, end };
  });

const popCount = (size: number): number => {
  let count = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
};
// A range of any size up to 2^40 (random subtree roots: only their number matters).
const fromRange = fc.oneof(fc.nat({ max: 5000 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(0, 2 ** 40 - 1, 2 ** 40, 2 ** 32 - 1)).chain((size) =>
  fc.array(hex64, { minLength: popCount(size), maxLength: popCount(size) }).map((hashes) => ({ size, hashes })),
);

/** The record hashes of bytes[start, end), as a plain reading of the rule finds them. */
function recordHashes(bytes: Buffer, start: number, end: number): string[] {
  const lines = bytes.toString('latin1', start, end).split('\n');
  lines.pop(); // what follows the last newline is no complete line
  return lines.flatMap((text) => /,"hash":"([0-9a-f]{64})"\}$/.exec(text)?.[1] ?? []);
}

type Case = { from: { size: number; hashes: string[] }; chunks: { bytes: Buffer; start: number; end: number }[] };
type Result = { json: unknown; root: string; added: number[] };

function batch({ from, chunks }: Case): Result {
  const range = CompactRange.from(from.size, from.hashes);
  const added = chunks.map(({ bytes, start, end }) => range.appendRecordLines(bytes, start, end));
  return { json: range.toJSON(), root: range.root().toString('hex'), added };
}

function oneByOne({ from, chunks }: Case): Result {
  const range = CompactRange.from(from.size, from.hashes);
  const added = chunks.map(({ bytes, start, end }) => {
    const hashes = recordHashes(bytes, start, end);
    for (const hash of hashes) range.appendRecordHash(hash);
    return hashes.length;
  });
  return { json: range.toJSON(), root: range.root().toString('hex'), added };
}

// The batch fold in a child on the JavaScript paths alone.
function batchInJsChild(cases: Case[]): { nativeMerkle: boolean; results: Result[] } {
  const script = `
    const { CompactRange } = require(${JSON.stringify(join(DIST, 'checkpoint', 'merkle.js'))});
    const { platformCapabilities } = require(${JSON.stringify(join(DIST, 'binding.js'))});
    const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const results = cases.map(({ from, chunks }) => {
      const range = CompactRange.from(from.size, from.hashes);
      const added = chunks.map(({ bytes, start, end }) => range.appendRecordLines(Buffer.from(bytes, 'base64'), start, end));
      return { json: range.toJSON(), root: range.root().toString('hex'), added };
    });
    console.log(JSON.stringify({ nativeMerkle: platformCapabilities().nativeMerkle, results }));`;
  const input = JSON.stringify(cases.map(({ from, chunks }) => ({ from, chunks: chunks.map(({ bytes, start, end }) => ({ bytes: bytes.toString('base64'), start, end })) })));
  const result = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8', env: { ...process.env, FS_APPEND_ONLY_NATIVE_MERKLE: '0' }, maxBuffer: 256 << 20, timeout: 120_000 });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as { nativeMerkle: boolean; results: Result[] };
}

/** `count` record lines (with a few other lines among them) in one buffer. */
function manyRecords(count: number, seed: number): Buffer {
  const parts: string[] = [];
  let hash = createHash('sha256').update(String(seed)).digest('hex');
  for (let i = 0; i < count; i += 1) {
    hash = createHash('sha256').update(hash).digest('hex');
    parts.push(`{"seq":${i + 1},"data":{"n":${i}},"hash":"${hash}"}\n`);
    if (i % 1000 === 0) parts.push('~\n');
  }
  return Buffer.from(parts.join(''));
}

describe('the batch fold of record lines', () => {
  it('is native here', () => {
    expect(platformCapabilities().nativeMerkle).toBe(true);
    expect(typeof loadBinding().binding?.foldRecordLines).toBe('function');
  });

  it('equals folding the same record hashes one by one (random lines, partial last lines, cuts, sizes up to 2^40)', () => {
    fc.assert(
      fc.property(fromRange, fc.array(chunk, { maxLength: 5 }), (from, chunks) => {
        expect(batch({ from, chunks })).toEqual(oneByOne({ from, chunks }));
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same ranges on the JavaScript path (FS_APPEND_ONLY_NATIVE_MERKLE=0 in a child)', () => {
    const cases = fc.sample(fc.record({ from: fromRange, chunks: fc.array(chunk, { maxLength: 5 }) }), { numRuns: 300, seed: 11 });
    const child = batchInJsChild(cases);
    expect(child.nativeMerkle).toBe(false);
    cases.forEach((c, i) => {
      const native = batch(c);
      expect(native).toEqual(oneByOne(c));
      expect(child.results[i]).toEqual(native);
    });
  });

  it('folds huge counts crossing many levels in one call, native and JavaScript alike', () => {
    const bytes = manyRecords(150_000, 1);
    const cases: Case[] = [0, 1, 2 ** 17 - 3, 2 ** 40 - 70_000, 2 ** 40].map((size, i) => ({
      from: { size, hashes: Array.from({ length: popCount(size) }, (_, j) => createHash('sha256').update(`${i}.${j}`).digest('hex')) },
      // The whole buffer, then a cut in the middle of a line and the rest.
      chunks: i % 2 === 0 ? [{ bytes, start: 0, end: bytes.length }] : [{ bytes, start: 0, end: 1_234_567 }, { bytes, start: bytes.lastIndexOf(0x0a, 1_234_567) + 1, end: bytes.length }],
    }));
    const child = batchInJsChild(cases);
    cases.forEach((c, i) => {
      const native = batch(c);
      expect(native.added.reduce((a, b) => a + b, 0)).toBe(150_000);
      expect(native).toEqual(oneByOne(c));
      expect(child.results[i]).toEqual(native);
    });
  });

  it('refuses a start or end outside the bytes, and leaves the range as it was', () => {
    const range = new CompactRange();
    const bytes = manyRecords(3, 2);
    for (const [start, end] of [[-1, 3], [0, bytes.length + 1], [5, 4], [0.5, 3], [0, Number.NaN]] as const) {
      expect(() => range.appendRecordLines(bytes, start, end)).toThrow(RangeError);
    }
    expect(range.size).toBe(0);
    expect(range.appendRecordLines(bytes)).toBe(3);
  });

  it('refuses to pass 2^53 - 1 leaves', () => {
    const size = Number.MAX_SAFE_INTEGER - 1;
    const range = CompactRange.from(size, Array.from({ length: popCount(size) }, () => 'ab'.repeat(32)));
    const fold = loadBinding().binding!.foldRecordLines!;
    const stack = new Int32Array(8 * 54);
    expect(() => fold(stack, size, manyRecords(3, 3), 0, manyRecords(3, 3).length)).toThrow(RangeError);
    expect(range.appendRecordLines(manyRecords(1, 3))).toBe(1);
    expect(range.size).toBe(Number.MAX_SAFE_INTEGER);
  });
});
