// One record grammar: verifyLog with the addon's scanner and verifyLog on its JavaScript path alone
// (FS_APPEND_ONLY_NATIVE_SCAN=0, in a child) give identical reports on random, randomly damaged logs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { platformCapabilities } from '../lib/binding';
import { encodeRecord, GENESIS, type RecordType } from '../lib/log/format';

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');
const dir = mkdtempSync(join(tmpdir(), 'fsao-differential-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Verifies one log in a fresh node, from the compiled package, and counts the scanner's calls. Both paths
// run this way, so they run the same build of the verifier.
const CHILD = `
  const { verifyLog } = require(${JSON.stringify(join(DIST, 'index.js'))});
  const { loadBinding, platformCapabilities } = require(${JSON.stringify(join(DIST, 'binding.js'))});
  const binding = loadBinding().binding;
  let scans = 0;
  if (binding.scanRecords !== undefined) {
    const scan = binding.scanRecords;
    binding.scanRecords = (...args) => ((scans += 1), scan(...args));
  }
  const [file, options] = process.argv.slice(1);
  verifyLog(file, JSON.parse(options)).then((report) =>
    console.log(JSON.stringify({ nativeScan: platformCapabilities().nativeScan, scans, report })));`;

interface Outcome {
  nativeScan: boolean;
  scans: number;
  report: unknown;
}

function verifyInChild(file: string, options: object, nativeScan: boolean): Outcome {
  const result = spawnSync(process.execPath, ['-e', CHILD, '--', file, JSON.stringify(options)], {
    encoding: 'utf8',
    env: { ...process.env, FS_APPEND_ONLY_NATIVE_SCAN: nativeScan ? '1' : '0' },
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`child exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Outcome;
}

// A small deterministic generator (mulberry32), so that a log of thousands of records costs fast-check
// one integer to shrink.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLES: unknown[] = [
  'plain',
  'é ü 😀 中文',
  '"hash":"' + 'a'.repeat(64) + '"}',
  '\n\r\t\\"',
  -1.5e10,
  0,
  null,
  true,
  [],
  {},
  { nested: { deeper: [1, 2, { k: 'v' }] } },
];

function dataFor(next: () => number, seq: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const roll = next();
  if (roll < 0.6) return JSON.stringify({ seq, actor: `user${Math.floor(next() * 1000)}`, action: pick(['read', 'export', 'delete']) });
  if (roll < 0.9) return JSON.stringify(pick(SAMPLES));
  if (roll < 0.98) return JSON.stringify({ note: 'x'.repeat(Math.floor(next() * 4000)) });
  return JSON.stringify({ big: 'y'.repeat(70_000 + Math.floor(next() * 70_000)) }); // across read chunks
}

function timestamp(next: () => number): string {
  const ms = Date.UTC(2026, 0, 1) + Math.floor(next() * 3e10);
  return new Date(ms).toISOString();
}

/** An unsigned log and the head of each record. */
function makeLog(count: number, seed: number): { lines: Buffer[]; hashes: string[] } {
  const next = random(seed);
  const lines: Buffer[] = [];
  const hashes: string[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= count; seq += 1) {
    const roll = next();
    const type: RecordType = roll < 0.005 ? 'recovery' : roll < 0.007 ? 'prune' : 'data';
    const { line, hash } = encodeRecord({ seq, ts: timestamp(next), prev, type, keyId: null, dataJson: dataFor(next, seq) }, null);
    lines.push(Buffer.from(line));
    hashes.push(hash);
    prev = hash;
  }
  return { lines, hashes };
}

type DamageKind = 'flip' | 'delete' | 'duplicate' | 'swap' | 'junk' | 'truncate';
interface Damage {
  kind: DamageKind;
  /** Where it lands, drawn from this (fast-check biases its numbers towards the ends of their range). */
  seed: number;
  junk: string;
}

const damageArbitrary: fc.Arbitrary<Damage> = fc.record({
  kind: fc.constantFrom<DamageKind>('flip', 'delete', 'duplicate', 'swap', 'junk', 'truncate'),
  seed: fc.integer(),
  junk: fc.oneof(fc.string(), fc.constant(''), fc.constant('{"seq":1,"ts":"'), fc.string({ unit: 'binary' })),
});

function damage(lines: Buffer[], damages: readonly Damage[]): Buffer {
  const current = [...lines];
  for (const change of damages) {
    if (current.length === 0) break;
    const next = random(change.seed);
    const index = (): number => Math.floor(next() * current.length);
    const i = index();
    switch (change.kind) {
      case 'flip': {
        const line = Buffer.from(current[i]!);
        // Half the flips land in the hash field and its frame, the rest anywhere in the line.
        const tail = Math.min(line.length, 80);
        const byte = next() < 0.5 ? line.length - 1 - Math.floor(next() * tail) : Math.floor(next() * line.length);
        line[byte]! ^= 1 + Math.floor(next() * 255);
        current[i] = line;
        break;
      }
      case 'delete':
        current.splice(i, 1);
        break;
      case 'duplicate':
        current.splice(i, 0, current[i]!);
        break;
      case 'swap': {
        const j = index();
        [current[i], current[j]] = [current[j]!, current[i]!];
        break;
      }
      case 'junk':
        current.splice(i, 0, Buffer.from(`${change.junk.replace(/\n/g, ' ')}\n`));
        break;
      case 'truncate': {
        const whole = Buffer.concat(current);
        return whole.subarray(0, Math.floor(next() * whole.length));
      }
    }
  }
  return Buffer.concat(current);
}

describe('the native scanner is a subset of the JavaScript verifier', () => {
  it('runs here with the scanner', () => {
    expect(platformCapabilities().nativeScan).toBe(true);
  });

  it('gives identical reports on 300 to 3,000 records with random damage', async () => {
    let run = 0;
    let nativeScans = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 300, max: 3000 }),
        fc.integer(),
        fc.array(damageArbitrary, { maxLength: 6 }),
        fc.option(fc.record({ seed: fc.integer(), honest: fc.boolean() }), { nil: undefined }),
        async (count, seed, damages, anchorChoice) => {
          const { lines, hashes } = makeLog(count, seed);
          const file = join(dir, `log-${(run += 1)}.log`);
          writeFileSync(file, damage(lines, damages));
          const options: Record<string, unknown> = {};
          if (anchorChoice !== undefined) {
            const seq = 1 + Math.floor(random(anchorChoice.seed)() * count);
            options.anchor = { seq, hash: anchorChoice.honest ? hashes[seq - 1]! : 'f'.repeat(64) };
          }
          const native = verifyInChild(file, options, true);
          const javascript = verifyInChild(file, options, false);
          expect(native.nativeScan).toBe(true);
          expect(javascript).toMatchObject({ nativeScan: false, scans: 0 });
          expect(javascript.report).toEqual(native.report);
          nativeScans += native.scans;
          rmSync(file);
        },
      ),
      { numRuns: 40, endOnFailure: true },
    );
    // The native side did scan: the comparison is not of one path with itself.
    expect(nativeScans).toBeGreaterThan(0);
  }, 300_000);
});
