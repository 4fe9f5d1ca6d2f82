// The native scanner with keys: it takes exactly the records the JavaScript verifier finds nothing wrong
// with, signed ones included, so that reports stay identical with and without it; and its two threads'
// stretches join as one walk, wherever a line stops it.
import { createHash, createHmac } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { type NativeRecordScanner, loadBinding } from '../lib/binding';
import { encodeRecord, GENESIS, MAX_RECORD_BYTES, type SigningKey, hashMatches, parseLine, signatureMatches } from '../lib/log/format';
import { KEYS, type Signing, damage, damageArbitrary, keysOption, makeLog, random, usedKeys, verifyInChild } from './scan-logs';

const dir = mkdtempSync(join(tmpdir(), 'fsao-signed-differential-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const binding = loadBinding().binding!;
const scanRecords = binding.scanRecords!;

/** Which keys the verifier is given. */
type KeyChoice = 'none' | 'used' | 'all' | 'one-missing' | 'one-wrong';

function keysFor(choice: KeyChoice, used: SigningKey[], pick: number): Record<string, string> | undefined {
  switch (choice) {
    case 'none':
      return undefined;
    case 'used':
      return keysOption(used);
    case 'all':
      return keysOption(KEYS);
    case 'one-missing':
      return keysOption(used.filter((_, i) => i !== pick % Math.max(1, used.length)));
    case 'one-wrong':
      return keysOption(used.map((key, i) => (i === pick % used.length ? { id: key.id, secret: Buffer.from('the wrong secret, 32 bytes .....') } : key)));
  }
}

describe('the native scanner with keys gives the reports of the JavaScript verifier', () => {
  it('on 300 to 3,000 signed, rotated and mixed records with random damage', async () => {
    let run = 0;
    let scanned = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 300, max: 3000 }),
        fc.integer(),
        fc.constantFrom<Signing>('one-key', 'rotation', 'mixed'),
        fc.array(
          damageArbitrary(['flip', 'flip-field', 'delete', 'duplicate', 'swap', 'junk', 'truncate', 'at-chunk-edge', 'forge', 'unknown-key', 'strip-signature', 'rebuild']),
          { maxLength: 6 },
        ),
        fc.constantFrom<KeyChoice>('none', 'used', 'used', 'all', 'one-missing', 'one-wrong'),
        fc.nat(),
        fc.option(fc.record({ seed: fc.integer(), honest: fc.boolean() }), { nil: undefined }),
        async (count, seed, signing, damages, keyChoice, pick, anchorChoice) => {
          const log = makeLog(count, seed, signing);
          const file = join(dir, `log-${(run += 1)}.log`);
          writeFileSync(file, damage(log, damages));
          const options: Record<string, unknown> = {};
          const keys = keysFor(keyChoice, usedKeys(log), pick);
          if (keys !== undefined) options.keys = keys;
          if (anchorChoice !== undefined) {
            const seq = 1 + Math.floor(random(anchorChoice.seed)() * count);
            options.anchor = { seq, hash: anchorChoice.honest ? log.hashes[seq - 1]! : 'f'.repeat(64) };
          }
          const native = verifyInChild(file, options, true);
          const javascript = verifyInChild(file, options, false);
          expect(native.nativeScan).toBe(true);
          expect(javascript).toMatchObject({ nativeScan: false, scans: 0 });
          expect(javascript.report).toEqual(native.report);
          scanned += native.scanned;
          rmSync(file);
        },
      ),
      { numRuns: 60, endOnFailure: true },
    );
    expect(scanned).toBeGreaterThan(0);
  }, 600_000);

  it('takes an intact signed log with key rotation natively, all but the lines across read chunks', () => {
    const log = makeLog(3000, 7, 'rotation', false);
    expect(usedKeys(log).length).toBeGreaterThan(1);
    const file = join(dir, 'rotation.log');
    writeFileSync(file, Buffer.concat(log.lines));
    const options = { keys: keysOption(usedKeys(log)) };
    const native = verifyInChild(file, options, true);
    const javascript = verifyInChild(file, options, false);
    expect(native.report).toMatchObject({ status: 'intact', records: 3000 });
    expect(javascript.report).toEqual(native.report);
    // The line across each read chunk's end is the JavaScript path's.
    expect(native.scanned).toBeGreaterThan(3000 * 0.99);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------------
// The scanner called directly, against the JavaScript verifier's acceptance of each line in turn.

/** How many lines of view[from, to) the JavaScript verifier takes in a row without a finding (a data record, chained, signed when keys are given). */
function acceptedLines(view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number, keys: Map<string, Buffer> | null): number {
  let at = from;
  let lines = 0;
  for (;;) {
    const newline = view.indexOf(0x0a, at);
    if (newline === -1 || newline >= to || newline - at > MAX_RECORD_BYTES) return lines;
    const parsed = parseLine(view.subarray(at, newline));
    if (parsed === null || parsed.type !== 'data' || parsed.seq !== expectedSeq || parsed.seq === stopSeq || parsed.prev !== prev || !hashMatches(parsed)) return lines;
    if (keys !== null) {
      const secret = parsed.keyId === null ? undefined : keys.get(parsed.keyId);
      if (secret === undefined || !signatureMatches(parsed, secret)) return lines;
    }
    expectedSeq = parsed.seq + 1;
    prev = parsed.hash;
    lines += 1;
    at = newline + 1;
  }
}

function keyMap(keys: readonly SigningKey[]): Map<string, Buffer> {
  return new Map(keys.map(({ id, secret }) => [id, secret]));
}

function openScanner(keys: Map<string, Buffer> | null): NativeRecordScanner {
  return binding.recordScanner!(keys === null ? null : [...keys]);
}

/** Lines of records chained from seq 1, each signed by `keyOf(seq)` (null: unsigned), of varied lengths. */
function chain(count: number, keyOf: (seq: number) => SigningKey | null, seed = 1): Buffer[] {
  const next = random(seed);
  const lines: Buffer[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= count; seq += 1) {
    const dataJson = JSON.stringify({ seq, pad: 'p'.repeat(Math.floor(next() * 600)), text: 'é 😀' });
    const { line, hash } = encodeRecord({ seq, ts: '2026-11-22T10:00:00.000Z', prev, type: 'data', keyId: null, dataJson }, keyOf(seq));
    lines.push(Buffer.from(line));
    prev = hash;
  }
  return lines;
}

describe('the scanner stops where the verifier would find something, wherever that is', () => {
  // About 600 KB: a probe, then stretches on two threads, with every line in turn the one that stops the walk.
  const COUNT = 1800;
  const rotation = (seq: number): SigningKey => KEYS[Math.floor(seq / 97) % KEYS.length]!;
  const lines = chain(COUNT, rotation);
  const keys = keyMap(KEYS);
  const offsets: number[] = [];
  lines.reduce((offset, line) => (offsets.push(offset), offset + line.length), 0);

  /** Scans the lines given, which must stop at line i. */
  function expectStopsAt(viewLines: Buffer[], i: number, scanner: NativeRecordScanner, stopSeq = 0): void {
    const view = Buffer.concat(viewLines);
    const [consumed, taken, nextSeq] = scanRecords(view, 0, view.length, 1, GENESIS, stopSeq, scanner);
    const before = viewLines.slice(0, i).reduce((bytes, line) => bytes + line.length, 0);
    expect({ i, taken, consumed, nextSeq }).toEqual({ i, taken: i, consumed: before, nextSeq: i + 1 });
  }

  it('at a changed hash, a changed signature, a missing line or the stop seq on any line', () => {
    const withKeys = openScanner(keys);
    const withoutKeys = openScanner(null);
    try {
      for (let i = 0; i < COUNT; i += 1) {
        const hashChanged = [...lines];
        const changedLine = Buffer.from(lines[i]!);
        const hashAt = changedLine.length - 4; // the hash's last digit
        changedLine[hashAt] = changedLine[hashAt] === 0x30 ? 0x31 : 0x30;
        hashChanged[i] = changedLine;
        expectStopsAt(hashChanged, i, i % 2 === 0 ? withKeys : withoutKeys);

        expectStopsAt([...lines.slice(0, i), ...lines.slice(i + 1)], i, i % 2 === 0 ? withoutKeys : withKeys);

        expectStopsAt(lines, i, i % 3 === 0 ? withoutKeys : withKeys, i + 1);

        // Record i - 1 changed and hashed again, its seq and prev kept: a valid record that line i no longer chains to.
        if (i > 0) {
          const changed = [...lines];
          const before = parseLine(lines[i - 1]!.subarray(0, -1))!;
          changed[i - 1] = Buffer.from(encodeRecord({ seq: i, ts: before.ts, prev: before.prev, type: 'data', keyId: null, dataJson: '"changed"' }, rotation(i)).line);
          expectStopsAt(changed, i, i % 2 === 0 ? withKeys : withoutKeys);
        }

        // Signed with the wrong secret, and hashed again, so that only the signature is wrong: the scanner
        // without keys takes it, as the verifier without keys does.
        const forged = [...lines];
        const text = lines[i]!.toString();
        const body = text.slice(0, text.lastIndexOf(',"sig":"'));
        const sig = createHmac('sha256', 'not the key').update(body).digest('hex');
        const signed = `${body},"sig":"${sig}"`;
        forged[i] = Buffer.from(`${signed},"hash":"${createHash('sha256').update(signed).digest('hex')}"}\n`);
        const view = Buffer.concat(forged.slice(0, i + 1));
        expect(scanRecords(view, 0, view.length, 1, GENESIS, 0, withKeys)[1]).toBe(i);
        expect(scanRecords(view, 0, view.length, 1, GENESIS, 0, withoutKeys)[1]).toBe(i + 1);
      }
    } finally {
      binding.closeRecordScanner!(withKeys);
      binding.closeRecordScanner!(withoutKeys);
    }
  }, 120_000);

  it('takes only whole lines, from any start, to any end', () => {
    const scanner = openScanner(keys);
    const whole = Buffer.concat(lines);
    const next = random(99);
    try {
      for (let round = 0; round < 300; round += 1) {
        const first = Math.floor(next() * 200);
        const from = offsets[first]!;
        const to = from + Math.floor(next() * (whole.length - from + 1));
        const junk = Buffer.alloc(Math.floor(next() * 50), 0x7e);
        const view = Buffer.concat([junk, whole]);
        const prev = first === 0 ? GENESIS : parseLine(lines[first - 1]!.subarray(0, -1))!.hash;
        const [consumed, taken, nextSeq, last] = scanRecords(view, junk.length + from, junk.length + to, first + 1, prev, 0, scanner);
        const expected = acceptedLines(whole, from, to, first + 1, prev, 0, keys);
        expect({ taken, consumed }).toEqual({ taken: expected, consumed: (offsets[first + expected] ?? whole.length) - from });
        expect(nextSeq).toBe(first + expected + 1);
        expect(last).toBe(expected === 0 ? prev : parseLine(lines[first + expected - 1]!.subarray(0, -1))!.hash);
      }
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  });

  it('scans again after close(), on the calling thread and a new helper', () => {
    const scanner = openScanner(keys);
    const whole = Buffer.concat(lines);
    for (let round = 0; round < 3; round += 1) {
      expect(scanRecords(whole, 0, whole.length, 1, GENESIS, 0, scanner).slice(0, 3)).toEqual([whole.length, COUNT, COUNT + 1]);
      binding.closeRecordScanner!(scanner);
    }
  });
});

describe('the scanner reads a signed line as parseLine does', () => {
  const KEY = KEYS[0]!;
  const TS = '2026-11-22T10:00:00.000Z';
  const sign = (bytes: string, secret = KEY.secret): string => createHmac('sha256', secret).update(bytes).digest('hex');

  /** A line from the bytes before its signature: signed (sig: the digits to write, or none at all), then hashed. */
  function seal(prefix: string, sig: string | null = sign(prefix)): Buffer {
    const body = sig === null ? prefix : `${prefix},"sig":"${sig}"`;
    return Buffer.from(`${body},"hash":"${createHash('sha256').update(body).digest('hex')}"}\n`);
  }

  const header = (seq: number | string, prev: string, keyId: string | null = KEY.id, ts = TS): string =>
    `{"seq":${seq},"ts":"${ts}","prev":"${prev}"${keyId === null ? '' : `,"keyId":"${keyId}"`},"data":`;

  // A signed record whose line, newline excluded, is `length` bytes long.
  function padded(seq: number, prev: string, length: number): Buffer {
    const bare = seal(`${header(seq, prev)}""`).length - 1;
    return seal(`${header(seq, prev)}"${'x'.repeat(length - bare)}"`);
  }

  type Build = (seq: number, prev: string) => Buffer;
  // Each line at any place in a chain, except those whose seq is the point (tried alone, at that seq).
  const CASES: [name: string, build: Build, aloneAt?: number][] = [
    ['signed', (seq, prev) => seal(`${header(seq, prev)}{"a":1}`)],
    ['key id of 64 characters', (seq, prev) => seal(`${header(seq, prev, 'A'.repeat(64))}{"a":1}`)],
    ['key id of 65 characters', (seq, prev) => seal(`${header(seq, prev, 'A'.repeat(65))}{"a":1}`)],
    ['empty key id', (seq, prev) => seal(`${header(seq, prev, '')}{"a":1}`)],
    ['key id with a space', (seq, prev) => seal(`${header(seq, prev, 'k 1')}{"a":1}`)],
    ['key id of every allowed character', (seq, prev) => seal(`${header(seq, prev, 'aZ09._:-')}{"a":1}`)],
    ['signature in capitals', (seq, prev) => seal(`${header(seq, prev)}{"a":1}`, sign(`${header(seq, prev)}{"a":1}`).toUpperCase())],
    ['signature of 63 digits', (seq, prev) => seal(`${header(seq, prev)}{"a":1}`, 'a'.repeat(63))],
    ['signature of another key', (seq, prev) => seal(`${header(seq, prev)}{"a":1}`, sign(`${header(seq, prev)}{"a":1}`, KEYS[1]!.secret))],
    ['no signature after a key id', (seq, prev) => seal(`${header(seq, prev)}{"a":1}`, null)],
    ['a signature without a key id (data, then)', (seq, prev) => seal(`${header(seq, prev, null)}{"a":1}`)],
    ['no data before the signature', (seq, prev) => seal(header(seq, prev))],
    ['one byte of data', (seq, prev) => seal(`${header(seq, prev)}1`)],
    ['a type before the key id', (seq, prev) => seal(`{"seq":${seq},"ts":"${TS}","prev":"${prev}","type":"seal","keyId":"k1","data":{}`)],
    ['the key id before a type', (seq, prev) => seal(`{"seq":${seq},"ts":"${TS}","prev":"${prev}","keyId":"k1","type":"seal","data":{}`)],
    ['a timestamp with a small z', (seq, prev) => seal(`${header(seq, prev, KEY.id, TS.replace('Z', 'z'))}{"a":1}`)],
    ['prev in capitals', (seq, prev) => seal(`${header(seq, prev.toUpperCase())}{"a":1}`)],
    ['a carriage return before the newline', (seq, prev) => Buffer.from(seal(`${header(seq, prev)}{"a":1}`).toString().replace('\n', '\r\n'))],
    ['data that is not JSON', (seq, prev) => seal(`${header(seq, prev)}not json at all`)],
    ['a line of MAX_RECORD_BYTES', (seq, prev) => padded(seq, prev, MAX_RECORD_BYTES)],
    ['a line one byte longer', (seq, prev) => padded(seq, prev, MAX_RECORD_BYTES + 1)],
    ['seq 0', (_, prev) => seal(`${header('0', prev)}{"a":1}`), 0],
    ['seq with a leading zero', (_, prev) => seal(`${header('01', prev)}{"a":1}`), 1],
    ['seq of 16 digits', (_, prev) => seal(`${header('1234567890123456', prev)}{"a":1}`), 1234567890123456],
    ['seq of 17 digits', (_, prev) => seal(`${header('12345678901234567', prev)}{"a":1}`), 12345678901234567],
  ];

  // Enough lines before it for the second thread, so that the case is in a stretch's walk, not the probe's.
  const before = chain(400, () => KEY, 5);
  const beforeTail = parseLine(before[before.length - 1]!.subarray(0, -1))!;

  it.each(CASES)('%s', (_, build, aloneAt) => {
    for (const keys of [keyMap([KEY, { id: 'A'.repeat(64), secret: KEY.secret }, { id: 'aZ09._:-', secret: KEY.secret }]), null]) {
      const scanner = openScanner(keys);
      try {
        const seq = aloneAt ?? 1;
        const line = build(seq, GENESIS);
        const next = parseLine(line.subarray(0, line.indexOf(0x0a)));
        const views = [line, Buffer.concat([line, next === null ? line : build(seq + 1, next.hash)])];
        if (aloneAt === undefined) views.push(Buffer.concat([...before, build(beforeTail.seq + 1, beforeTail.hash)]));
        for (const [n, view] of views.entries()) {
          const [start, previous] = n === 2 ? [1, GENESIS] : [seq, GENESIS];
          const expected = acceptedLines(view, 0, view.length, start, previous, 0, keys);
          expect({ view: n, taken: scanRecords(view, 0, view.length, start, previous, 0, scanner)[1] }).toEqual({ view: n, taken: expected });
        }
      } finally {
        binding.closeRecordScanner!(scanner);
      }
    }
  });

  it('accepts what it should: the plain cases are taken, with keys and without', () => {
    const scanner = openScanner(keyMap([KEY]));
    try {
      const line = seal(`${header(1, GENESIS)}{"a":1}`);
      expect(scanRecords(line, 0, line.length, 1, GENESIS, 0, scanner)[1]).toBe(1);
      const view = Buffer.concat([...before, padded(beforeTail.seq + 1, beforeTail.hash, MAX_RECORD_BYTES)]);
      expect(scanRecords(view, 0, view.length, 1, GENESIS, 0, scanner)[1]).toBe(before.length + 1);
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  });
});

describe('the scanner reading the file itself', () => {
  const scanFile = binding.scanFile!;
  const KEY = KEYS[1]!;
  const BLOCK = 256 * 1024; // src/scan.cc kBlockBytes: the lines around each block's edges are the ones to try

  /** Writes `lines` to a file and scans it from `position` (a line start) to `limit`, with `scanner`. */
  async function scanLines(name: string, lines: Buffer[], scanner: NativeRecordScanner, position = 0, limit = Number.MAX_SAFE_INTEGER, start = { seq: 1, prev: GENESIS }) {
    const file = join(dir, name);
    writeFileSync(file, Buffer.concat(lines));
    const fd = openSync(file, 'r');
    try {
      const [consumed, taken, nextSeq, last, more] = await scanFile(scanner, fd, position, limit, start.seq, start.prev, 0);
      return { consumed, taken, nextSeq, last, more };
    } finally {
      closeSync(fd);
    }
  }

  const bytesOf = (lines: Buffer[]): number => lines.reduce((bytes, line) => bytes + line.length, 0);

  // About 1.3 MB: five blocks, every line of it signed.
  const lines = chain(4000, () => KEY, 11);
  const starts: number[] = [];
  lines.reduce((offset, line) => (starts.push(offset), offset + line.length), 0);
  const nearEdges = [...new Set(starts.flatMap((offset, i) => (Math.floor(offset / BLOCK) !== Math.floor((offset + lines[i]!.length - 1) / BLOCK) ? [i - 2, i - 1, i, i + 1, i + 2] : [])))].filter(
    (i) => i >= 0 && i < lines.length,
  );

  it('takes a whole signed file, and stops at the end of its last whole line', async () => {
    const scanner = openScanner(keyMap([KEY]));
    try {
      expect(await scanLines('whole.log', lines, scanner)).toMatchObject({ consumed: bytesOf(lines), taken: lines.length, nextSeq: lines.length + 1, more: false });
      const cut = [...lines.slice(0, -1), lines[lines.length - 1]!.subarray(0, 100)];
      expect(await scanLines('cut.log', cut, scanner)).toMatchObject({ consumed: bytesOf(lines.slice(0, -1)), taken: lines.length - 1, more: false });
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  });

  it('stops at a changed line or a missing one next to each block edge', async () => {
    expect(nearEdges.length).toBeGreaterThanOrEqual(20);
    const scanner = openScanner(keyMap([KEY]));
    try {
      for (const i of nearEdges) {
        const changed = [...lines];
        const line = Buffer.from(lines[i]!);
        line[line.length - 10] = line[line.length - 10] === 0x30 ? 0x31 : 0x30;
        changed[i] = line;
        expect({ i, ...(await scanLines('changed.log', changed, scanner)) }).toMatchObject({ i, taken: i, consumed: bytesOf(lines.slice(0, i)), more: false });
        const missing = [...lines.slice(0, i), ...lines.slice(i + 1)];
        expect({ i, ...(await scanLines('missing.log', missing, scanner)) }).toMatchObject({ i, taken: i, consumed: bytesOf(lines.slice(0, i)), more: false });
      }
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  }, 60_000);

  it('takes the lines that start before the limit, from any line start, and says when there may be more', async () => {
    const scanner = openScanner(keyMap([KEY]));
    const next = random(5);
    const whole = Buffer.concat(lines);
    try {
      for (let round = 0; round < 40; round += 1) {
        const first = Math.floor(next() * 1000);
        const position = starts[first]!;
        const limit = position + 1 + Math.floor(next() * (round % 2 === 0 ? 3 * BLOCK : whole.length));
        const prev = first === 0 ? GENESIS : parseLine(lines[first - 1]!.subarray(0, -1))!.hash;
        let last = first;
        while (last + 1 < starts.length && starts[last + 1]! < limit) last += 1;
        const result = await scanLines('limit.log', lines, scanner, position, limit, { seq: first + 1, prev });
        expect({ round, taken: result.taken, consumed: result.consumed }).toEqual({ round, taken: last - first + 1, consumed: bytesOf(lines.slice(first, last + 1)) });
        if (limit < whole.length - 100_000) expect(result.more).toBe(true);
        if (limit >= whole.length) expect(result.more).toBe(false);
      }
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  }, 60_000);

  it('reads a record longer than a block whole, and stops before a line too long to be one', async () => {
    const scanner = openScanner(null);
    try {
      const before = chain(2000, () => null, 3);
      const tail = parseLine(before[before.length - 1]!.subarray(0, -1))!;
      const long = (seq: number, prev: string, bytes: number): Buffer => {
        const bare = Buffer.from(encodeRecord({ seq, ts: '2026-11-22T10:00:00.000Z', prev, type: 'data', keyId: null, dataJson: '""' }, null).line).length - 1;
        return Buffer.from(encodeRecord({ seq, ts: '2026-11-22T10:00:00.000Z', prev, type: 'data', keyId: null, dataJson: `"${'L'.repeat(bytes - bare)}"` }, null).line);
      };
      for (const bytes of [600 * 1024, MAX_RECORD_BYTES]) {
        const record = long(tail.seq + 1, tail.hash, bytes);
        const after = encodeRecord({ seq: tail.seq + 2, ts: '2026-11-22T10:00:00.000Z', prev: parseLine(record.subarray(0, -1))!.hash, type: 'data', keyId: null, dataJson: '{}' }, null).line;
        const all = [...before, record, Buffer.from(after)];
        expect(await scanLines('long.log', all, scanner)).toMatchObject({ taken: all.length, consumed: bytesOf(all), more: false });
      }
      const tooLong = Buffer.from(`${'x'.repeat(MAX_RECORD_BYTES + 1)}\n`);
      const all = [...before, tooLong, ...chain(10, () => null, 4)];
      expect(await scanLines('too-long.log', all, scanner)).toMatchObject({ taken: before.length, consumed: bytesOf(before), more: false });
    } finally {
      binding.closeRecordScanner!(scanner);
    }
  }, 60_000);

  it('refuses a second scan while one runs, and closes once it is done', async () => {
    const scanner = openScanner(null);
    const file = join(dir, 'busy.log');
    writeFileSync(file, Buffer.concat(lines));
    const fd = openSync(file, 'r');
    try {
      const running = scanFile(scanner, fd, 0, Number.MAX_SAFE_INTEGER, 1, GENESIS, 0);
      expect(() => scanRecords(lines[0]!, 0, lines[0]!.length, 1, GENESIS, 0, scanner)).toThrow(/scanning a file/);
      await expect(Promise.resolve().then(() => scanFile(scanner, fd, 0, 10, 1, GENESIS, 0))).rejects.toThrow(/scanning a file/);
      binding.closeRecordScanner!(scanner);
      expect((await running).slice(0, 2)).toEqual([bytesOf(lines), lines.length]);
      expect((await scanFile(scanner, fd, 0, Number.MAX_SAFE_INTEGER, 1, GENESIS, 0))[1]).toBe(lines.length);
    } finally {
      closeSync(fd);
      binding.closeRecordScanner!(scanner);
    }
  });
});
