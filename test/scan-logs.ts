// Random logs, signed or not, randomly damaged, and verifyLog run on them in a child with and without the
// addon's scanner: the fixtures of the scanner's differential tests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

import fc from 'fast-check';

import { encodeRecord, GENESIS, type RecordType, type SigningKey } from '../lib/log/format';

const DIST = join(resolve(__dirname, '..'), 'dist');

/** Where verifyLog reads its chunks (lib/log/lines.ts CHUNK_BYTES): lines that straddle them are damaged on purpose. */
export const CHUNK_BYTES = 1024 * 1024;

// Verifies one log in a fresh node, from the compiled package, and counts the scanner's calls. Both paths
// run this way, so they run the same build of the verifier.
const CHILD = `
  const { verifyLog } = require(${JSON.stringify(join(DIST, 'index.js'))});
  const { loadBinding, platformCapabilities } = require(${JSON.stringify(join(DIST, 'binding.js'))});
  const binding = loadBinding().binding;
  let scans = 0;
  let scanned = 0;
  if (binding.scanRecords !== undefined) {
    const scan = binding.scanRecords;
    binding.scanRecords = (...args) => {
      const result = scan(...args);
      scans += 1;
      scanned += result[1];
      return result;
    };
    const scanFile = binding.scanFile;
    binding.scanFile = async (...args) => {
      const result = await scanFile(...args);
      scans += 1;
      scanned += result[1];
      return result;
    };
  }
  const [file, options] = process.argv.slice(1);
  verifyLog(file, JSON.parse(options)).then((report) =>
    console.log(JSON.stringify({ nativeScan: platformCapabilities().nativeScan, scans, scanned, report })));`;

export interface Outcome {
  nativeScan: boolean;
  /** The scanner's calls, and the records it took. */
  scans: number;
  scanned: number;
  report: { status: string; tampered: unknown[]; records: number };
}

export function verifyInChild(file: string, options: object, nativeScan: boolean): Outcome {
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
export function random(seed: number): () => number {
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
  ',"sig":"' + 'b'.repeat(64) + '"',
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

/**
 * Keys the signed logs use: ids of one character, of 64, and of every character an id may hold; secrets
 * shorter than an HMAC block, of one block, and longer (hashed first). ASCII, so that they reach a child as
 * the same text in JSON.
 */
export const KEYS: readonly SigningKey[] = [
  { id: 'k1', secret: Buffer.from('the first key, 32 bytes long....') },
  { id: 'Rot.at_ion:2026-11', secret: Buffer.from('Z'.repeat(64)) },
  { id: 'z', secret: Buffer.from('q'.repeat(100)) },
  { id: 'A'.repeat(64), secret: Buffer.from('sixteen bytes!!!') },
];

/** The `keys` option for verifyLog naming these keys. */
export function keysOption(keys: readonly SigningKey[]): Record<string, string> {
  return Object.fromEntries(keys.map(({ id, secret }) => [id, secret.toString('latin1')]));
}

/** How a log is signed: not at all, by one key, by keys in turn, or by keys in turn with unsigned records between. */
export type Signing = 'unsigned' | 'one-key' | 'rotation' | 'mixed';

export interface GeneratedLog {
  lines: Buffer[];
  hashes: string[];
  /** The key each record was signed with (null: unsigned). */
  keys: (SigningKey | null)[];
  /** The fields each record was encoded from, to encode it again changed. */
  fields: { seq: number; ts: string; prev: string; type: RecordType; dataJson: string }[];
}

/**
 * A log of `count` records; with `otherTypes`, a few recovery and prune records among them, which only the
 * JavaScript path reads (the recoveries name no bytes: each is a bad-recovery finding).
 */
export function makeLog(count: number, seed: number, signing: Signing = 'unsigned', otherTypes = true): GeneratedLog {
  const next = random(seed);
  const log: GeneratedLog = { lines: [], hashes: [], keys: [], fields: [] };
  let key: SigningKey | null = signing === 'unsigned' ? null : KEYS[0]!;
  let prev = GENESIS;
  for (let seq = 1; seq <= count; seq += 1) {
    if ((signing === 'rotation' || signing === 'mixed') && next() < 0.01) key = KEYS[Math.floor(next() * KEYS.length)]!;
    const signedBy = signing === 'mixed' && next() < 0.3 ? null : key;
    const roll = next();
    const type: RecordType = !otherTypes ? 'data' : roll < 0.005 ? 'recovery' : roll < 0.007 ? 'prune' : 'data';
    const fields = { seq, ts: timestamp(next), prev, type, dataJson: dataFor(next, seq) };
    const { line, hash } = encodeRecord({ ...fields, keyId: null }, signedBy);
    log.lines.push(Buffer.from(line));
    log.hashes.push(hash);
    log.keys.push(signedBy);
    log.fields.push(fields);
    prev = hash;
  }
  return log;
}

/** The keys a log was signed with. */
export function usedKeys(log: GeneratedLog): SigningKey[] {
  const byId = new Map<string, SigningKey>();
  for (const key of log.keys) if (key !== null) byId.set(key.id, key);
  return [...byId.values()];
}

export type DamageKind =
  | 'flip'
  | 'flip-field'
  | 'delete'
  | 'duplicate'
  | 'swap'
  | 'junk'
  | 'truncate'
  | 'at-chunk-edge'
  | 'forge'
  | 'unknown-key'
  | 'strip-signature'
  | 'rebuild';

export interface Damage {
  kind: DamageKind;
  /** Where it lands, drawn from this (fast-check biases its numbers towards the ends of their range). */
  seed: number;
  junk: string;
}

export function damageArbitrary(kinds: readonly DamageKind[]): fc.Arbitrary<Damage> {
  return fc.record({
    kind: fc.constantFrom(...kinds),
    seed: fc.integer(),
    junk: fc.oneof(fc.string(), fc.constant(''), fc.constant('{"seq":1,"ts":"'), fc.string({ unit: 'binary' })),
  });
}

// The byte range of a named field's value in a record line, or null when the line has none.
function fieldRange(line: Buffer, field: 'seq' | 'prev' | 'keyId' | 'data' | 'sig' | 'hash'): [number, number] | null {
  const text = line.toString('latin1');
  const hashAt = text.lastIndexOf(',"hash":"');
  if (hashAt < 0) return null;
  const sigAt = text.includes('"keyId":"') ? text.lastIndexOf(',"sig":"', hashAt) : -1;
  if (field === 'hash') return [hashAt + 9, hashAt + 73];
  if (field === 'sig') return sigAt < 0 ? null : [sigAt + 8, sigAt + 72];
  if (field === 'seq') return text.startsWith('{"seq":') ? [7, text.indexOf(',', 7)] : null;
  const marker = { prev: '"prev":"', keyId: '"keyId":"', data: '"data":' }[field];
  const at = text.indexOf(marker);
  if (at < 0) return null;
  const start = at + marker.length;
  if (field === 'data') return [start, sigAt < 0 ? hashAt : sigAt];
  return [start, text.indexOf('"', start)];
}

/** Encodes record i of `log` again into lines[i], signed by `key` (null: unsigned). */
function reencode(log: GeneratedLog, lines: Buffer[], i: number, key: SigningKey | null): void {
  lines[i] = Buffer.from(encodeRecord({ ...log.fields[i]!, keyId: null }, key).line);
}

/** The log's bytes with `damages` applied, in turn. */
export function damage(log: GeneratedLog, damages: readonly Damage[]): Buffer {
  const current = [...log.lines];
  // Whether current[i] is still record i of `log` (re-encoding a record needs its fields).
  let aligned = true;
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
      case 'flip-field': {
        // One byte of one field's value, changed to another character of its alphabet or to anything.
        const line = Buffer.from(current[i]!);
        const fields = ['seq', 'prev', 'keyId', 'data', 'sig', 'hash'] as const;
        const range = fieldRange(line, fields[Math.floor(next() * fields.length)]!);
        if (range === null || range[1] <= range[0]) break;
        const byte = range[0] + Math.floor(next() * (range[1] - range[0]));
        const alphabet = '0123456789abcdefABCDEF"\\}:,. ';
        const replacement = next() < 0.8 ? alphabet.charCodeAt(Math.floor(next() * alphabet.length)) : Math.floor(next() * 256);
        line[byte] = replacement === line[byte] ? replacement ^ 1 : replacement;
        current[i] = line;
        break;
      }
      case 'delete':
        current.splice(i, 1);
        aligned = false;
        break;
      case 'duplicate':
        current.splice(i, 0, current[i]!);
        aligned = false;
        break;
      case 'swap': {
        const j = index();
        [current[i], current[j]] = [current[j]!, current[i]!];
        aligned = false;
        break;
      }
      case 'junk':
        current.splice(i, 0, Buffer.from(`${change.junk.replace(/\n/g, ' ')}\n`));
        aligned = false;
        break;
      case 'truncate': {
        const whole = Buffer.concat(current);
        return whole.subarray(0, Math.floor(next() * whole.length));
      }
      case 'at-chunk-edge': {
        // A byte flipped in the line that straddles a read chunk's edge, or in one of the lines either side of it.
        let offset = 0;
        const edges: number[] = [];
        current.forEach((line, n) => {
          const end = offset + line.length;
          if (Math.floor(offset / CHUNK_BYTES) !== Math.floor((end - 1) / CHUNK_BYTES)) edges.push(n);
          offset = end;
        });
        if (edges.length === 0) break;
        const n = Math.min(current.length - 1, Math.max(0, edges[Math.floor(next() * edges.length)]! + Math.floor(next() * 3) - 1));
        const line = Buffer.from(current[n]!);
        line[Math.floor(next() * line.length)]! ^= 1 + Math.floor(next() * 255);
        current[n] = line;
        break;
      }
      case 'forge':
      case 'unknown-key':
      case 'strip-signature': {
        // Record i encoded again, valid but for its signature: signed by a key of the right id and the wrong
        // secret, by a key no verifier holds, or not signed. The records after it no longer chain to it.
        if (!aligned) break;
        const original = log.keys[i] ?? KEYS[0]!;
        const key =
          change.kind === 'forge'
            ? { id: original.id, secret: Buffer.from('not the secret of this key id...') }
            : change.kind === 'unknown-key'
              ? { id: 'stranger-key', secret: Buffer.from('a key no verifier was given....') }
              : null;
        reencode(log, current, i, key);
        break;
      }
      case 'rebuild': {
        // The chain rebuilt from record i on by someone without the keys: data changed, every hash computed
        // again, every signature left as it was.
        if (!aligned) break;
        let prev = log.fields[i]!.prev;
        for (let n = i; n < current.length; n += 1) {
          const key = log.keys[n] ?? null;
          const changed = n === i ? { ...log.fields[n]!, dataJson: JSON.stringify({ rebuilt: n }) } : log.fields[n]!;
          const { line: signedLine } = encodeRecord({ ...changed, prev, keyId: null }, key);
          // Keep the original signature: its bytes, then the hash of the line as it now reads.
          let body = signedLine.slice(0, signedLine.lastIndexOf(',"hash":"'));
          const originalSig = fieldRange(log.lines[n]!, 'sig');
          if (key !== null && originalSig !== null) {
            body = body.slice(0, body.length - 65) + log.lines[n]!.toString('latin1', originalSig[0], originalSig[1]) + '"';
          }
          const hash = createHash('sha256').update(body).digest('hex');
          current[n] = Buffer.from(`${body},"hash":"${hash}"}\n`);
          prev = hash;
        }
        break;
      }
    }
  }
  return Buffer.concat(current);
}
