// One writer, two engines: the same appends written with the addon's RecordBuffer (write-behind on its
// background thread) and with the JavaScript one (FS_APPEND_ONLY_NATIVE_ENCODE=0), every record stamped
// with one time (FS_APPEND_ONLY_TEST_TIMESTAMP), must give the same files byte for byte and the same
// { seq, hash } for every append.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { generateCheckpointKey, verifyLog } from '../lib/index';
import { MAX_DATA_BYTES } from '../lib/log/serialize';

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');
const TIMESTAMP = '2026-11-23T10:00:00.000Z';

type Engine = 'native' | 'js';

interface KeySpec {
  id: string;
  secret: string; // hex
}

/** One step of a run. A burst's items are all issued in one event-loop turn, then awaited together. */
type Item =
  | { op: 'append'; data: unknown; handle?: number }
  | { op: 'appendSync'; data: unknown; handle?: number }
  | { op: 'rotateKey'; key: KeySpec; handle?: number }
  | { op: 'flushSync' }
  | { op: 'head' };
type Step =
  | { op: 'open'; handle?: number; options: Record<string, unknown> }
  | Item
  | { op: 'burst'; items: Item[] }
  | { op: 'turn' }
  | { op: 'flush' }
  | { op: 'checkpoint' }
  | { op: 'close'; handle?: number };

// The child: runs the steps on `path` and writes what each returned ({ seq, hash }, or the error's code).
const CHILD = `
'use strict';
const fs = require('node:fs');
const { AppendOnlyLog } = require(${JSON.stringify(join(DIST, 'index.js'))});
const { nativeRecordBufferClass } = require(${JSON.stringify(join(DIST, 'binding.js'))});
const [specFile, outFile] = process.argv.slice(1);
const { path, steps } = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const keyOf = (key) => ({ id: key.id, secret: Buffer.from(key.secret, 'hex') });
const failed = (error) => ({ error: error.code ?? error.name });
const head = (value) => ({ seq: value.seq, hash: value.hash });
const logs = [];
const results = [];
function issue(item) {
  const log = logs[item.handle ?? 0];
  switch (item.op) {
    case 'append':
      return log.append(item.data).then(head, failed);
    case 'appendSync':
      try {
        return head(log.appendSync(item.data));
      } catch (error) {
        return failed(error);
      }
    case 'rotateKey':
      log.rotateKey(keyOf(item.key));
      return { rotated: item.key.id };
    case 'flushSync':
      log.flushSync();
      return { flushed: true };
    case 'head':
      return { head: log.head };
    default:
      throw new Error('unknown item ' + item.op);
  }
}
async function main() {
  for (const step of steps) {
    switch (step.op) {
      case 'open': {
        const options = { ...step.options };
        if (options.key) options.key = keyOf(options.key);
        logs[step.handle ?? 0] = await AppendOnlyLog.open(path, options);
        break;
      }
      case 'burst':
        results.push(...(await Promise.all(step.items.map(issue))));
        break;
      case 'turn':
        await new Promise((ended) => setImmediate(ended));
        break;
      case 'flush':
        await logs[0].flush();
        break;
      case 'checkpoint': {
        const { size, root, note } = await logs[0].checkpoint();
        results.push({ size, root: Buffer.from(root).toString('hex'), note });
        break;
      }
      case 'close':
        await logs[step.handle ?? 0].close();
        break;
      default:
        results.push(await issue(step));
    }
  }
  const engine = nativeRecordBufferClass() === undefined ? 'js' : 'native';
  fs.writeFileSync(outFile, JSON.stringify({ engine, results }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

let scratch = '';
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'fsao-engine-writer-'));
});
afterEach(() => {
  spawnSync('chattr', ['-R', '-f', '-a', '-i', scratch]);
  rmSync(scratch, { recursive: true, force: true });
});

let runs = 0;

/** Runs `steps` on `path` in a child with the given engine; returns what each step returned. */
function run(engine: Engine, path: string, steps: Step[]): unknown[] {
  runs += 1;
  const specFile = join(scratch, `spec-${runs}.json`);
  const outFile = join(scratch, `out-${runs}.json`);
  writeFileSync(specFile, JSON.stringify({ path, steps }));
  const env: NodeJS.ProcessEnv = { ...process.env, FS_APPEND_ONLY_TEST_TIMESTAMP: TIMESTAMP };
  delete env.FS_APPEND_ONLY_NATIVE_ENCODE;
  if (engine === 'js') env.FS_APPEND_ONLY_NATIVE_ENCODE = '0';
  const result = spawnSync(process.execPath, ['-e', CHILD, '--', specFile, outFile], { encoding: 'utf8', env, timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${engine} child exited ${result.status} (${result.signal}): ${result.stderr}`);
  const out = JSON.parse(readFileSync(outFile, 'utf8')) as { engine: Engine; results: unknown[] };
  // Otherwise both runs would be the JavaScript engine, and the comparison would prove nothing.
  expect(out.engine).toBe(engine);
  return out.results;
}

/** The log's bytes: the file, or every segment of a directory by name. */
function contents(path: string): Map<string, Buffer> {
  if (!statSync(path).isDirectory()) return new Map([['', readFileSync(path)]]);
  return new Map(
    readdirSync(path)
      .sort()
      .map((name) => [name, readFileSync(join(path, name))]),
  );
}

/** Runs `steps` with each engine on its own path; expects the same results and the same bytes. */
function runBoth(name: string, steps: Step[]): { path: string; results: unknown[]; files: Map<string, Buffer> } {
  const nativePath = join(scratch, `native-${name}`);
  const jsPath = join(scratch, `js-${name}`);
  const nativeResults = run('native', nativePath, steps);
  const jsResults = run('js', jsPath, steps);
  expect(nativeResults.length).toBe(jsResults.length);
  expectSameResults(nativeResults, jsResults);
  const nativeFiles = contents(nativePath);
  expectSameFiles(nativeFiles, contents(jsPath));
  return { path: nativePath, results: nativeResults, files: nativeFiles };
}

// Compared one by one, so that a difference names its place rather than printing thousands of heads.
function expectSameResults(actual: unknown[], expected: unknown[]): void {
  for (let i = 0; i < expected.length; i += 1) {
    if (JSON.stringify(actual[i]) !== JSON.stringify(expected[i])) expect({ index: i, result: actual[i] }).toEqual({ index: i, result: expected[i] });
  }
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) {
    const other = actual.get(name)!;
    if (other.equals(bytes)) continue;
    // The first line that differs, rather than two megabytes of bytes.
    let at = 0;
    while (at < bytes.length && at < other.length && bytes[at] === other[at]) at += 1;
    const lineStart = bytes.lastIndexOf(0x0a, at - 1) + 1;
    expect({ name, line: other.toString('utf8', lineStart, lineStart + 400) }).toEqual({ name, line: bytes.toString('utf8', lineStart, lineStart + 400) });
  }
}

function heads(results: unknown[]): { seq: number; hash: string }[] {
  return results.filter((result): result is { seq: number; hash: string } => typeof result === 'object' && result !== null && 'hash' in result);
}

// Random data, the same for both engines: a seeded generator (mulberry32), so a failure reproduces.
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Text JSON must escape or encode: quotes, backslashes, controls, line separators, two- to four-byte
// UTF-8, emoji sequences, and lone or reversed surrogates (JSON.stringify escapes those as \ud800).
const PIECES = [
  'a', 'Zz', ' ', '"', '\\', '/', '\u0000', '\u0001', '\b', '\f', '\n', '\r', '\t', '\u001f', '\u007f', '\u0080', '\u00e9', '\u00ff',
  '\u2028', '\u2029', '\u4e2d\u6587', '\uffff', '\ufeff', '\ud83d\ude00', '\ud83d\udc69\u200d\ud83d\udcbb', '\u{1f1fa}\u{1f1f8}', '\u{10ffff}',
  '\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800', '\\u0000', '</script>', '{"seq":1}', ',"hash":"',
];

function randomString(next: () => number, maxPieces: number): string {
  let text = '';
  const pieces = Math.floor(next() * (maxPieces + 1));
  for (let i = 0; i < pieces; i += 1) text += PIECES[Math.floor(next() * PIECES.length)]!;
  return text;
}

const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 5e-324, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 123456.789];

function randomValue(next: () => number, depth = 0): unknown {
  const kind = Math.floor(next() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return next() < 0.5 ? NUMBERS[Math.floor(next() * NUMBERS.length)] : Math.floor(next() * 2 ** 40) - 2 ** 39;
    case 3:
    case 4:
      return randomString(next, 12);
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i -= 1) object[randomString(next, 3)] = randomValue(next, depth + 1);
      return object;
    }
  }
}

/** Data whose JSON is exactly `bytes` long, from one repeated piece of `unitBytes` bytes (ASCII pads the rest). */
function dataOfJsonBytes(bytes: number, piece: string): { big: string } {
  const envelope = Buffer.byteLength(JSON.stringify({ big: '' }));
  const unit = Buffer.byteLength(JSON.stringify(piece)) - 2;
  const count = Math.floor((bytes - envelope) / unit);
  const data = { big: piece.repeat(count) + 'x'.repeat(bytes - envelope - count * unit) };
  expect(Buffer.byteLength(JSON.stringify(data))).toBe(bytes);
  return data;
}

// Values at the record limit, just under it in multi-byte characters, and one byte over it (refused).
const LARGE: unknown[] = [
  dataOfJsonBytes(MAX_DATA_BYTES, 'x'),
  dataOfJsonBytes(MAX_DATA_BYTES - 1, '\ud83d\ude00'),
  dataOfJsonBytes(MAX_DATA_BYTES - 3, '\u00e9'),
  dataOfJsonBytes(MAX_DATA_BYTES, '\ud800'), // escaped as 6 bytes each
  dataOfJsonBytes(MAX_DATA_BYTES + 1, 'x'),
  dataOfJsonBytes(70 * 1024, '\u4e2d'), // one record over the 64 KiB buffer on its own
];

/** `count` records in random steps: bursts (some over 64 KiB), awaited appends, appendSync, turns, large values. */
function randomSteps(seed: number, count: number, options: { handles?: number; keys?: KeySpec[]; large?: boolean } = {}): Step[] {
  const next = generator(seed);
  const handles = options.handles ?? 1;
  const handle = (): number | undefined => (handles === 1 ? undefined : Math.floor(next() * handles));
  const steps: Step[] = [];
  let made = 0;
  let large = 0;
  const item = (): Item => {
    made += 1;
    const roll = next();
    if (options.keys !== undefined && roll < 0.01) return { op: 'rotateKey', key: options.keys[Math.floor(next() * options.keys.length)]!, handle: handle() };
    if (options.large === true && roll < 0.012 && large < LARGE.length) return { op: 'append', data: LARGE[large++], handle: handle() };
    if (roll < 0.06) return { op: 'appendSync', data: randomValue(next), handle: handle() };
    // In the middle of a burst: what is staged must be written first, in chain order.
    if (roll < 0.065) return { op: 'flushSync' };
    if (roll < 0.07) return { op: 'head' };
    return { op: 'append', data: randomValue(next), handle: handle() };
  };
  while (made < count) {
    const roll = next();
    if (roll < 0.25) {
      steps.push(item());
    } else if (roll < 0.3) {
      steps.push({ op: 'turn' });
    } else if (roll < 0.33) {
      // Over 64 KiB in one turn: buffers are written behind while the next ones are encoded.
      steps.push({ op: 'burst', items: Array.from({ length: 600 + Math.floor(next() * 600) }, () => ({ op: 'append' as const, data: { pad: 'p'.repeat(80 + Math.floor(next() * 200)), value: randomValue(next) }, handle: handle() })) });
      made += (steps[steps.length - 1] as { items: Item[] }).items.length;
    } else {
      steps.push({ op: 'burst', items: Array.from({ length: 1 + Math.floor(next() * 120) }, item) });
    }
  }
  // Whatever the seed drew, every large value is written once, in a burst between small records.
  if (options.large === true) {
    for (; large < LARGE.length; large += 1) steps.push({ op: 'burst', items: [item(), { op: 'append', data: LARGE[large] }, item()] });
  }
  return steps;
}

const K1: KeySpec = { id: 'k1', secret: '11'.repeat(32) };
const K2: KeySpec = { id: 'k2.rotated', secret: '22'.repeat(48) };
const K3: KeySpec = { id: 'k3:other', secret: '33'.repeat(16) };
const KEYS = Object.fromEntries([K1, K2, K3].map((key) => [key.id, Buffer.from(key.secret, 'hex')]));

describe('the native record buffer writes what the JavaScript one writes', () => {
  it.each(['none', 'sync'] as const)("a file log of thousands of random records, durability '%s'", async (durability) => {
    const steps: Step[] = [{ op: 'open', options: { durability } }, ...randomSteps(durability === 'none' ? 1 : 2, 4000, { large: true }), { op: 'close' }];
    const { path, results } = runBoth(`random-${durability}`, steps);
    // The record one byte over the limit is refused by both, with the same error; every other is written.
    expect(results.filter((result) => JSON.stringify(result) === '{"error":"ERR_OUT_OF_RANGE"}' || JSON.stringify(result) === '{"error":"RangeError"}')).toHaveLength(1);
    const written = heads(results);
    expect(written.length).toBeGreaterThan(4000);
    expect(written.map((head) => head.seq)).toEqual(written.map((_, index) => index + 1));
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: written.length, tamperedEntries: 0, head: { seq: written.length, hash: written[written.length - 1]!.hash } });
  }, 300_000);

  it('a burst over 64 KiB with appendSync, flushSync and log.head between its appends, in one turn and across turns', async () => {
    const burst = (start: number, length: number): Item[] =>
      Array.from({ length }, (_, index): Item => {
        if (index % 97 === 50) return { op: 'appendSync', data: { n: start + index, sync: true } };
        if (index % 251 === 100) return { op: 'flushSync' };
        if (index % 263 === 200) return { op: 'head' };
        return { op: 'append', data: { n: start + index, pad: 'q'.repeat(150) } };
      });
    const steps: Step[] = [
      { op: 'open', options: { durability: 'none' } },
      { op: 'burst', items: burst(0, 2000) },
      { op: 'append', data: 'awaited' },
      { op: 'appendSync', data: 'sync' },
      { op: 'burst', items: burst(2000, 1500) },
      { op: 'flush' },
      { op: 'burst', items: [{ op: 'appendSync', data: 'first' }, ...burst(3500, 800)] },
      { op: 'close' },
    ];
    const { path, results } = runBoth('bursts', steps);
    const appends = steps.flatMap((step) => (step.op === 'burst' ? step.items : [step])).filter((step) => step.op === 'append' || step.op === 'appendSync');
    expect(appends.length).toBeGreaterThan(4200);
    expect(heads(results)).toHaveLength(appends.length);
    // log.head in a burst named the record appended just before it.
    const named = results.filter((result): result is { head: { seq: number } } => typeof result === 'object' && result !== null && 'head' in result);
    expect(named.length).toBeGreaterThan(5);
    for (const { head } of named) expect(heads(results)[head.seq - 1]).toEqual(head);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: appends.length, tamperedEntries: 0 });
  }, 120_000);

  it('signed with a key, rotated to others, and two handles with their own keys on one file in one burst', async () => {
    const steps: Step[] = [
      { op: 'open', options: { durability: 'none', key: K1 } },
      ...randomSteps(3, 1500, { keys: [K1, K2, K3] }),
      { op: 'rotateKey', key: K2 },
      { op: 'open', handle: 1, options: { durability: 'sync', key: K3 } },
      ...randomSteps(4, 1500, { handles: 2 }),
      { op: 'close', handle: 1 },
      { op: 'close' },
    ];
    const { path, results } = runBoth('signed', steps);
    const written = heads(results);
    expect(written.length).toBeGreaterThanOrEqual(2900);
    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'intact', records: written.length, tamperedEntries: 0, signaturesChecked: true, unknownKeyIds: [] });
    // Every key signed some of them: the rotations and the second handle's key were used.
    const text = readFileSync(path, 'utf8');
    for (const key of [K1, K2, K3]) expect(text).toContain(`"keyId":"${key.id}"`);
  }, 180_000);

  it('a directory log rotated many times: the same segments, byte for byte', async () => {
    const steps: Step[] = [{ op: 'open', options: { durability: 'none', key: K1, rotate: { maxBytes: 24 * 1024 } } }, ...randomSteps(5, 3000), { op: 'close' }];
    const { path, files, results } = runBoth('rotated', steps);
    expect(files.size).toBeGreaterThan(30);
    const written = heads(results);
    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'intact', tamperedEntries: 0 });
    expect(report.head!.seq).toBeGreaterThanOrEqual(written[written.length - 1]!.seq);
  }, 180_000);

  it('a log with checkpoints every 100 records and on demand: the same notes (Ed25519 signs deterministically)', async () => {
    const { signer, verifier } = generateCheckpointKey('example.com/differential');
    const steps: Step[] = [
      { op: 'open', options: { durability: 'none', key: K1, checkpoints: { signer, every: { records: 100 } } } },
      ...randomSteps(6, 1500),
      { op: 'checkpoint' },
      ...randomSteps(7, 1000),
      { op: 'checkpoint' },
      { op: 'close' },
    ];
    const { path, results } = runBoth('checkpoints', steps);
    expect(results.filter((result) => typeof result === 'object' && result !== null && 'note' in result)).toHaveLength(2);
    const text = readFileSync(path, 'utf8');
    expect(text.split('"type":"checkpoint"').length - 1).toBeGreaterThan(10);
    expect(await verifyLog(path, { keys: KEYS, checkpointKeys: [verifier] })).toMatchObject({ status: 'intact', tamperedEntries: 0 });
  }, 180_000);
});

describe('a log written by one engine and continued by the other', () => {
  it.each([
    ['a signed file log with checkpoints', false],
    ['a directory log with rotation', true],
  ])('%s gives the same bytes whichever engine wrote which part', async (_, rotated) => {
    const { signer, verifier } = generateCheckpointKey('example.com/handover');
    const options = rotated ? { durability: 'none', key: K1, rotate: { maxBytes: 32 * 1024 } } : { durability: 'none', key: K1, checkpoints: { signer, every: { records: 250 } } };
    const first: Step[] = [{ op: 'open', options }, ...randomSteps(8, 1200), { op: 'close' }];
    const second: Step[] = [{ op: 'open', options: { ...options, key: K2 } }, ...randomSteps(9, 1200), { op: 'close' }];
    const orders: [Engine, Engine][] = [
      ['native', 'native'],
      ['native', 'js'],
      ['js', 'native'],
      ['js', 'js'],
    ];
    const written = orders.map(([a, b]) => {
      const path = join(scratch, `${a}-then-${b}`);
      const results = [...run(a, path, first), ...run(b, path, second)];
      return { path, results, files: contents(path) };
    });
    for (const other of written.slice(1)) {
      expectSameResults(other.results, written[0]!.results);
      expectSameFiles(other.files, written[0]!.files);
    }
    // The second part continues the first: one chain, both keys.
    const report = await verifyLog(written[1]!.path, { keys: KEYS, checkpointKeys: [verifier] });
    expect(report).toMatchObject({ status: 'intact', tamperedEntries: 0 });
    expect(report.recovered).toEqual([]);
    expect(heads(written[1]!.results).length).toBeGreaterThanOrEqual(2400);
  }, 300_000);
});
