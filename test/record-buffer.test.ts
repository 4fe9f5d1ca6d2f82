// The writer's record buffers on their own: the addon's RecordBuffer (src/record_buffer.cc) and its
// JavaScript twin push the bytes and hashes encodeRecord gives, chain from their last push, take back,
// write and report failed writes alike; the native class refuses bad arguments.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Read once when lib/log/record-buffer loads: every record below is stamped with this time.
const { TIMESTAMP } = vi.hoisted(() => {
  const TIMESTAMP = '2026-11-23T10:00:00.000Z';
  process.env.FS_APPEND_ONLY_TEST_TIMESTAMP = TIMESTAMP;
  return { TIMESTAMP };
});

import { type NativeRecordBuffer, nativeRecordBufferClass } from '../lib/binding';
import { CompactRange } from '../lib/checkpoint/merkle';
import { GENESIS, MAX_RECORD_BYTES, type RecordType, type SigningKey, encodeRecordJs, nativeKeyHandle } from '../lib/log/format';
import { WriteFailure } from '../lib/log/log-file';
import { JsRecordBuffer, type RecordBuffer, createRecordBuffer } from '../lib/log/record-buffer';

const scratch = mkdtempSync(join(tmpdir(), 'fsao-record-buffer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;

/** A fresh empty file opened for appending, and a way to read it and close it. */
function freshFile(): { fd: number; read(): Buffer; close(): void } {
  const path = join(scratch, `f${(files += 1)}`);
  const fd = openSync(path, 'a');
  return { fd, read: () => readFileSync(path), close: () => closeSync(fd) };
}

/** A descriptor of an existing file opened for reading only: write(2) on it fails with EBADF. */
function readOnlyDescriptor(): { fd: number; close(): void } {
  const path = join(scratch, `r${(files += 1)}`);
  writeFileSync(path, '');
  const fd = openSync(path, 'r');
  return { fd, close: () => closeSync(fd) };
}

const NativeClass = nativeRecordBufferClass();

const IMPLEMENTATIONS: [string, () => RecordBuffer][] = [
  ['the native RecordBuffer', () => createRecordBuffer()],
  ['JsRecordBuffer', () => new JsRecordBuffer()],
];

interface Pushed {
  seq: number;
  prev: string | null;
  type: RecordType;
  key: SigningKey | null;
  dataJson: string;
}

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
// Any UTF-16 text, lone surrogates included (U+FFFD in the line's bytes, whichever buffer writes it).
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 60 });
const dataJson = fc.oneof(
  fc.jsonValue({ stringUnit: 'binary' }).map((value) => JSON.stringify(value)),
  anyText,
  fc.constantFrom('"\ud800"', '\ud800', '"\udc00\ud800"', '{"emoji":"\ud83d\ude00"}', '"\\u0000"', 'null'),
);
const signingKey: fc.Arbitrary<SigningKey | null> = fc.option(
  fc.record({ id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), secret: fc.uint8Array({ minLength: 16, maxLength: 100 }).map((bytes) => Buffer.from(bytes)) }),
  { nil: null },
);
const pushed: fc.Arbitrary<Pushed> = fc.record({
  seq: fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom(0, 2 ** 32, Number.MAX_SAFE_INTEGER)),
  // null: chain on the record pushed before (the first push of a run always passes one).
  prev: fc.option(hex64, { nil: null, freq: 2 }),
  type: fc.constantFrom<RecordType>('data', 'data', 'recovery', 'seal', 'prune', 'checkpoint'),
  key: signingKey,
  dataJson,
});

/** What push() must give: the line and hash of encodeRecordJs, chained on the hash before when prev is null. */
function expected(records: Pushed[]): { lines: string[]; hashes: string[] } {
  const lines: string[] = [];
  const hashes: string[] = [];
  for (const record of records) {
    const prev = record.prev ?? hashes[hashes.length - 1]!;
    const { line, hash } = encodeRecordJs({ seq: record.seq, ts: TIMESTAMP, prev, type: record.type, keyId: record.key?.id ?? null, dataJson: record.dataJson }, record.key);
    lines.push(line);
    hashes.push(hash);
  }
  return { lines, hashes };
}

function pushAll(buffer: RecordBuffer, records: Pushed[]): string[] {
  return records.map((record) => buffer.push(record.seq, record.prev, record.type, record.key, record.dataJson));
}

function failureOf(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the record buffers on this machine', () => {
  it('the addon provides RecordBuffer (else the native column below would test the JavaScript one twice)', () => {
    expect(NativeClass).toBeTypeOf('function');
    expect(createRecordBuffer()).not.toBeInstanceOf(JsRecordBuffer);
  });
});

describe.each(IMPLEMENTATIONS)('%s', (_, make) => {
  it('pushes the bytes and returns the hash encodeRecord gives for the same fields, and writes them whole', () => {
    fc.assert(
      fc.property(fc.array(pushed, { minLength: 1, maxLength: 12 }), hex64, (tail, first) => {
        const records = [{ ...tail[0]!, prev: tail[0]!.prev ?? first }, ...tail.slice(1)];
        const buffer = make();
        const want = expected(records);
        expect(pushAll(buffer, records)).toEqual(want.hashes);
        const bytes = Buffer.from(want.lines.join(''));
        expect({ bytes: buffer.bytes, count: buffer.count }).toEqual({ bytes: bytes.length, count: records.length });
        const file = freshFile();
        try {
          buffer.write(file.fd);
          expect(file.read().equals(bytes)).toBe(true);
        } finally {
          file.close();
        }
        expect({ bytes: buffer.bytes, count: buffer.count }).toEqual({ bytes: 0, count: 0 });
        // Whole lines of that write: each record counts once its newline is within the bytes given.
        let end = 0;
        want.lines.forEach((line, index) => {
          end += Buffer.byteLength(line);
          expect(buffer.wholeLines(end - 1)).toBe(index);
          expect(buffer.wholeLines(end)).toBe(index + 1);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('pushNext(seq, key, data) writes what push(seq, null, "data", key, data) writes, as the key stays, changes, or another type comes between', () => {
    const keys = [null, { id: 'k1', secret: Buffer.alloc(32, 1) }, { id: 'k2', secret: Buffer.alloc(64, 2) }];
    const step = fc.record({
      how: fc.constantFrom('push', 'pushNext', 'pushNext', 'pushNext', 'other type'),
      key: fc.constantFrom(...keys),
      dataJson,
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.nat({ max: 2 ** 40 }), (steps, start) => {
        const buffer = make();
        const records: Pushed[] = [];
        const hashes = steps.map((next, index) => {
          const seq = start + index + 1;
          if (index === 0 || next.how === 'push') {
            records.push({ seq, prev: index === 0 ? GENESIS : null, type: 'data', key: next.key, dataJson: next.dataJson });
            return buffer.push(seq, index === 0 ? GENESIS : null, 'data', next.key, next.dataJson);
          }
          if (next.how === 'other type') {
            records.push({ seq, prev: null, type: 'checkpoint', key: next.key, dataJson: next.dataJson });
            return buffer.push(seq, null, 'checkpoint', next.key, next.dataJson);
          }
          records.push({ seq, prev: null, type: 'data', key: next.key, dataJson: next.dataJson });
          return buffer.pushNext(seq, next.key, next.dataJson);
        });
        const want = expected(records);
        expect(hashes).toEqual(want.hashes);
        const file = freshFile();
        try {
          buffer.write(file.fd);
          expect(file.read().equals(Buffer.from(want.lines.join('')))).toBe(true);
          // And after a write, with the last record's key.
          const last = records[records.length - 1]!;
          const after = expected([{ seq: last.seq + 1, prev: want.hashes[want.hashes.length - 1]!, type: 'data', key: last.key, dataJson: '"after"' }]);
          expect(buffer.pushNext(last.seq + 1, last.key, '"after"')).toBe(after.hashes[0]);
        } finally {
          file.close();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('pushNext continues from the last staged record once its write is settled', () => {
    const key = { id: 'k1', secret: Buffer.alloc(32, 1) };
    const buffer = make();
    const file = freshFile();
    try {
      buffer.push(1, GENESIS, 'data', key, '1');
      buffer.write(file.fd, { seq: 2, prev: null, jsons: ['2', '3'], key });
      const hash = buffer.pushNext(4, key, '4');
      const want = expected([
        { seq: 1, prev: GENESIS, type: 'data', key, dataJson: '1' },
        { seq: 2, prev: null, type: 'data', key, dataJson: '2' },
        { seq: 3, prev: null, type: 'data', key, dataJson: '3' },
        { seq: 4, prev: null, type: 'data', key, dataJson: '4' },
      ]);
      expect(hash).toBe(want.hashes[3]);
      buffer.write(file.fd);
      expect(file.read().toString()).toBe(want.lines.join(''));
    } finally {
      file.close();
    }
  });

  it('writes a record at the size limit, in one push', () => {
    const dataJson = JSON.stringify({ big: '\ud83d\ude00'.repeat((MAX_RECORD_BYTES - 600) / 4) });
    const key = { id: 'k1', secret: Buffer.alloc(32, 1) };
    const want = expected([{ seq: 1, prev: GENESIS, type: 'data', key, dataJson }]);
    const buffer = make();
    expect(buffer.push(1, GENESIS, 'data', key, dataJson)).toBe(want.hashes[0]);
    expect(buffer.bytes).toBe(Buffer.byteLength(want.lines[0]!));
    expect(buffer.bytes).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    const file = freshFile();
    try {
      buffer.write(file.fd);
      expect(file.read().equals(Buffer.from(want.lines[0]!))).toBe(true);
    } finally {
      file.close();
    }
  });

  it('a null prev continues from the last push, across writes, and is refused with none to continue from', () => {
    const buffer = make();
    expect(() => buffer.push(1, null, 'data', null, '1')).toThrow(/no record was pushed to continue from/);
    expect({ bytes: buffer.bytes, count: buffer.count }).toEqual({ bytes: 0, count: 0 });
    const first = buffer.push(1, GENESIS, 'data', null, '1');
    const second = buffer.push(2, null, 'data', null, '2');
    const file = freshFile();
    try {
      buffer.write(file.fd);
      // Written since, and still what the next push chains on.
      const third = buffer.push(3, null, 'data', null, '3');
      buffer.write(file.fd);
      const want = expected([
        { seq: 1, prev: GENESIS, type: 'data', key: null, dataJson: '1' },
        { seq: 2, prev: null, type: 'data', key: null, dataJson: '2' },
        { seq: 3, prev: null, type: 'data', key: null, dataJson: '3' },
      ]);
      expect([first, second, third]).toEqual(want.hashes);
      expect(file.read().toString()).toBe(want.lines.join(''));
    } finally {
      file.close();
    }
  });

  it('pop() takes back the last record only: its bytes, its count, and the hash a null prev would chain on', () => {
    const buffer = make();
    buffer.push(1, GENESIS, 'data', null, '{"a":1}');
    const kept = { bytes: buffer.bytes, count: buffer.count };
    buffer.push(2, null, 'data', { id: 'k', secret: Buffer.alloc(16, 2) }, '"\u00e9\ud800"');
    buffer.pop();
    expect({ bytes: buffer.bytes, count: buffer.count }).toEqual(kept);
    expect(() => buffer.push(2, null, 'data', null, '2')).toThrow(/no record was pushed to continue from/);
    expect({ bytes: buffer.bytes, count: buffer.count }).toEqual(kept);
    const want = expected([
      { seq: 1, prev: GENESIS, type: 'data', key: null, dataJson: '{"a":1}' },
      { seq: 2, prev: null, type: 'data', key: null, dataJson: '"other"' },
    ]);
    expect(buffer.push(2, want.hashes[0]!, 'data', null, '"other"')).toBe(want.hashes[1]);
    const file = freshFile();
    try {
      buffer.write(file.fd);
      expect(file.read().toString()).toBe(want.lines.join(''));
    } finally {
      file.close();
    }
  });

  it('clear() drops the pending records; nothing is written', () => {
    const buffer = make();
    buffer.push(1, GENESIS, 'data', null, '1');
    buffer.push(2, null, 'data', null, '2');
    buffer.clear();
    expect({ bytes: buffer.bytes, count: buffer.count }).toEqual({ bytes: 0, count: 0 });
    const file = freshFile();
    try {
      buffer.write(file.fd);
      expect(file.read().length).toBe(0);
    } finally {
      file.close();
    }
  });

  it.each([
    ['a descriptor open for reading only', readOnlyDescriptor],
    ['a descriptor number no file has', () => ({ fd: 1_000_000, close: () => undefined })],
  ])('a write to %s fails as a WriteFailure with written 0 and a Node-style EBADF, and keeps no record', (_, descriptor) => {
    const { fd, close } = descriptor();
    try {
      const buffer = make();
      buffer.push(1, GENESIS, 'data', null, '{"lost":1}');
      buffer.push(2, null, 'data', null, '{"lost":2}');
      buffer.startWrite(fd);
      expect({ bytes: buffer.bytes, count: buffer.count }).toEqual({ bytes: 0, count: 0 });
      const failure = failureOf(() => buffer.settle());
      expect(failure).toBeInstanceOf(WriteFailure);
      expect((failure as WriteFailure).written).toBe(0);
      expect((failure as WriteFailure).cause).toMatchObject({ code: 'EBADF', syscall: 'write', errno: -9 });
      expect((failure as WriteFailure).message).toMatch(/^EBADF: bad file descriptor, write/);
      expect(buffer.wholeLines((failure as WriteFailure).written)).toBe(0);
      expect(buffer.wholeLines(Number.MAX_SAFE_INTEGER)).toBe(2);
      // Settled: the failure is reported once, and the next write goes ahead.
      expect(() => buffer.settle()).not.toThrow();
      buffer.push(3, null, 'data', null, '3');
      const file = freshFile();
      try {
        buffer.write(file.fd);
        expect(file.read().toString()).toMatch(/^\{"seq":3,/);
      } finally {
        file.close();
      }
    } finally {
      close();
    }
  });

  it('refuses a second startWrite before the first is settled, and loses neither write', () => {
    const buffer = make();
    const readOnly = readOnlyDescriptor();
    const file = freshFile();
    try {
      buffer.push(1, GENESIS, 'data', null, '1');
      buffer.startWrite(readOnly.fd);
      buffer.push(2, null, 'data', null, '2');
      expect(() => buffer.startWrite(file.fd)).toThrow(/not settled/);
      // The first write's failure is still there to settle, and the second's record still pending.
      expect(failureOf(() => buffer.settle())).toBeInstanceOf(WriteFailure);
      expect(buffer.count).toBe(1);
      buffer.write(file.fd);
      expect(file.read().toString()).toMatch(/^\{"seq":2,/);
    } finally {
      readOnly.close();
      file.close();
    }
  });

  it('settle() with no write started returns at once', () => {
    const buffer = make();
    expect(() => buffer.settle()).not.toThrow();
    expect(() => buffer.settle()).not.toThrow();
  });

  it('fold() adds the pending records to a compact range as their hashes would', () => {
    fc.assert(
      fc.property(fc.array(dataJson, { minLength: 0, maxLength: 40 }), fc.nat({ max: 1000 }), (datas, before) => {
        const buffer = make();
        const hashes = datas.map((data, index) => buffer.push(index + 1, index === 0 ? GENESIS : null, 'data', null, data));
        const folded = new CompactRange();
        const reference = new CompactRange();
        for (let i = 0; i < before; i += 1) {
          const leaf = Buffer.alloc(32, i % 251).toString('hex');
          folded.appendRecordHash(leaf);
          reference.appendRecordHash(leaf);
        }
        buffer.fold(folded);
        for (const hash of hashes) reference.appendRecordHash(hash);
        expect(folded.size).toBe(before + datas.length);
        expect(folded.root().equals(reference.root())).toBe(true);
        // Folding writes nothing and keeps the records pending.
        expect(buffer.count).toBe(datas.length);
      }),
      { numRuns: 100 },
    );
  });

  it('writes staged records after the pending ones as push() would, and settle() returns their hashes', () => {
    fc.assert(
      fc.property(
        fc.array(pushed, { maxLength: 5 }),
        fc.array(dataJson, { minLength: 1, maxLength: 10 }),
        signingKey,
        hex64,
        fc.boolean(),
        (tail, jsons, key, first, continues) => {
          const records = tail.length === 0 ? [] : [{ ...tail[0]!, prev: tail[0]!.prev ?? first }, ...tail.slice(1)];
          // The records' seqs need not follow one another; the staged ones follow the last (the boundary at 2^53 is tested below).
          const seq = Math.min(records[records.length - 1]?.seq ?? 41, 2 ** 40) + 1;
          // A null prev continues from the last push; with none pending, the chain is named.
          const prev = continues && records.length > 0 ? null : first;
          const stagedRecords: Pushed[] = jsons.map((json, index) => ({ seq: seq + index, prev: index === 0 ? prev : null, type: 'data', key, dataJson: json }));
          const want = expected([...records, ...stagedRecords]);
          const buffer = make();
          pushAll(buffer, records);
          const file = freshFile();
          try {
            expect(buffer.write(file.fd, { seq, prev, jsons, key })).toBe(want.hashes.slice(records.length).join(''));
            const bytes = Buffer.from(want.lines.join(''));
            expect(file.read().equals(bytes)).toBe(true);
            expect(buffer.lastWriteBytes).toBe(bytes.length);
            expect(buffer.wholeLines(bytes.length)).toBe(records.length + jsons.length);
            expect(buffer.wholeLines(bytes.length - 1)).toBe(records.length + jsons.length - 1);
            // The next push chains on the last staged record.
            const next = expected([{ seq: seq + jsons.length, prev: want.hashes[want.hashes.length - 1]!, type: 'data', key: null, dataJson: '"next"' }]);
            expect(buffer.push(seq + jsons.length, null, 'data', null, '"next"')).toBe(next.hashes[0]);
          } finally {
            file.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes staged records up to seq 2^53 - 1, as push() takes that seq', () => {
    const buffer = make();
    const file = freshFile();
    try {
      const last = Number.MAX_SAFE_INTEGER;
      const want = expected([
        { seq: last - 1, prev: GENESIS, type: 'data', key: null, dataJson: '1' },
        { seq: last, prev: null, type: 'data', key: null, dataJson: '2' },
      ]);
      expect(buffer.write(file.fd, { seq: last - 1, prev: GENESIS, jsons: ['1', '2'], key: null })).toBe(want.hashes.join(''));
      expect(file.read().toString()).toBe(want.lines.join(''));
    } finally {
      file.close();
    }
  });

  it('a failed write of staged records carries their hashes, and counts them among the lines it lost', () => {
    const readOnly = readOnlyDescriptor();
    try {
      const buffer = make();
      const pending = buffer.push(1, GENESIS, 'data', null, '1');
      const key = { id: 'k', secret: Buffer.alloc(16, 4) };
      buffer.startWrite(readOnly.fd, { seq: 2, prev: null, jsons: ['2', '"three"'], key });
      const failure = failureOf(() => buffer.settle());
      const want = expected([
        { seq: 1, prev: GENESIS, type: 'data', key: null, dataJson: '1' },
        { seq: 2, prev: null, type: 'data', key, dataJson: '2' },
        { seq: 3, prev: null, type: 'data', key, dataJson: '"three"' },
      ]);
      expect(want.hashes[0]).toBe(pending);
      expect(failure).toBeInstanceOf(WriteFailure);
      expect(failure).toMatchObject({ written: 0, hashes: want.hashes.slice(1).join(''), cause: { code: 'EBADF' } });
      expect(buffer.wholeLines(0)).toBe(0);
      expect(buffer.wholeLines(Number.MAX_SAFE_INTEGER)).toBe(3);
      expect(buffer.lastWriteBytes).toBe(0);
    } finally {
      readOnly.close();
    }
  });

  it('lastWriteBytes is the size of the last write settled, not of one still in flight', () => {
    const buffer = make();
    const file = freshFile();
    try {
      buffer.push(1, GENESIS, 'data', null, '1');
      buffer.write(file.fd);
      const first = file.read().length;
      expect(buffer.lastWriteBytes).toBe(first);
      buffer.push(2, null, 'data', null, '"second, longer"');
      buffer.startWrite(file.fd);
      expect(buffer.lastWriteBytes).toBe(first);
      expect(buffer.settle()).toBe('');
      expect(buffer.lastWriteBytes).toBe(file.read().length - first);
    } finally {
      file.close();
    }
  });
});

describe('the native RecordBuffer class', () => {
  const Native = NativeClass!;
  const hmacKey = (secret: Buffer) => nativeKeyHandle({ id: 'k', secret });

  // [pending bytes, pending records, bytes of the last write settled]
  function native(timestamp: string | null = TIMESTAMP): { buffer: NativeRecordBuffer; state: Int32Array } {
    const state = new Int32Array(3);
    return { buffer: new Native(state, timestamp), state };
  }

  it('keeps [pending bytes, pending records, bytes of the last write settled] in the state array it was given', () => {
    const { buffer, state } = native();
    expect([...state]).toEqual([0, 0, 0]);
    buffer.push(1, GENESIS, null, null, '{"a":1}', null);
    const one = Buffer.byteLength(encodeRecordJs({ seq: 1, ts: TIMESTAMP, prev: GENESIS, type: 'data', keyId: null, dataJson: '{"a":1}' }, null).line);
    expect([...state]).toEqual([one, 1, 0]);
    buffer.push(2, null, 'seal', 'k', '"\u00e9"', hmacKey(Buffer.alloc(16, 3)));
    expect(state[1]).toBe(2);
    expect(state[0]).toBe(buffer.copy().length);
    buffer.truncate(one, 1);
    expect([...state]).toEqual([one, 1, 0]);
    buffer.clear();
    expect([...state]).toEqual([0, 0, 0]);
    buffer.push(1, GENESIS, null, null, '{"a":1}', null);
    const file = freshFile();
    try {
      buffer.startWrite(file.fd);
      expect([...state]).toEqual([0, 0, 0]);
      buffer.settle();
      expect([...state]).toEqual([0, 0, one]);
      buffer.push(2, GENESIS, null, null, '1', null);
      buffer.startWrite(1_000_000);
      expect(() => buffer.settle()).toThrow(expect.objectContaining({ code: 'EBADF', written: 0 }));
      expect([...state]).toEqual([0, 0, 0]);
    } finally {
      file.close();
    }
  });

  it('copy() is the pending bytes, and truncate() takes back to the end of any pending record', () => {
    const { buffer } = native();
    const records: Pushed[] = [
      { seq: 7, prev: 'ab'.repeat(32), type: 'data', key: null, dataJson: '[1,2]' },
      { seq: 8, prev: null, type: 'recovery', key: null, dataJson: '{"reason":"torn-tail"}' },
      { seq: 9, prev: null, type: 'data', key: { id: 'k', secret: Buffer.alloc(20, 9) }, dataJson: '"\ud83d"' },
    ];
    for (const record of records) buffer.push(record.seq, record.prev, record.type === 'data' ? null : record.type, record.key?.id ?? null, record.dataJson, record.key === null ? null : hmacKey(record.key.secret));
    const want = expected(records);
    expect(buffer.copy().equals(Buffer.from(want.lines.join('')))).toBe(true);
    const firstEnd = Buffer.byteLength(want.lines[0]!);
    expect(() => buffer.truncate(firstEnd + 1, 1)).toThrow(RangeError);
    expect(() => buffer.truncate(firstEnd, 2)).toThrow(RangeError);
    expect(() => buffer.truncate(firstEnd, 4)).toThrow(RangeError);
    expect(() => buffer.truncate(firstEnd, 1.5)).toThrow(RangeError);
    expect(() => buffer.truncate(1, 0)).toThrow(RangeError);
    expect(buffer.copy().equals(Buffer.from(want.lines.join('')))).toBe(true);
    buffer.truncate(firstEnd, 1);
    expect(buffer.copy().toString()).toBe(want.lines[0]);
    expect(() => buffer.push(8, null, null, null, '1', null)).toThrow(/no record was pushed to continue from/);
    buffer.truncate(0, 0);
    expect(buffer.copy().length).toBe(0);
  });

  it('stamps records with the clock when given no fixed time, as toISOString() writes it', () => {
    const { buffer } = native(null);
    const before = Date.now();
    const hash = buffer.push(1, GENESIS, null, null, '{}', null);
    const after = Date.now();
    const line = buffer.copy().toString();
    const ts = /"ts":"([^"]*)"/.exec(line)![1]!;
    expect(new Date(ts).toISOString()).toBe(ts);
    expect(Date.parse(ts)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(ts)).toBeLessThanOrEqual(after);
    expect(encodeRecordJs({ seq: 1, ts, prev: GENESIS, type: 'data', keyId: null, dataJson: '{}' }, null)).toEqual({ line, hash });
  });

  it('pushNext refuses a seq that does not follow the last record, data that is not a string, and a buffer with nothing to follow', () => {
    const { buffer, state } = native();
    const call = buffer as unknown as { pushNext(...args: unknown[]): string };
    expect(() => buffer.pushNext(1, '1')).toThrow(/does not follow/);
    buffer.push(5, GENESIS, null, 'k', '1', hmacKey(Buffer.alloc(16, 7)));
    const kept = [...state];
    for (const seq of [5, 7, 4, 5.5, -1, Number.NaN]) expect(() => buffer.pushNext(seq, '1')).toThrow(/does not follow/);
    expect(() => call.pushNext(6, 1)).toThrow(TypeError);
    expect(() => call.pushNext(6)).toThrow(TypeError);
    expect(() => call.pushNext('6', '1')).toThrow(TypeError);
    expect([...state]).toEqual(kept);
    const next = buffer.pushNext(6, '2');
    expect(buffer.copy().toString().split('\n')[1]).toBe(
      encodeRecordJs({ seq: 6, ts: TIMESTAMP, prev: /"hash":"([0-9a-f]{64})"/.exec(buffer.copy().toString())![1]!, type: 'data', keyId: 'k', dataJson: '2' }, { id: 'k', secret: Buffer.alloc(16, 7) }).line.slice(0, -1),
    );
    expect(next).toMatch(/^[0-9a-f]{64}$/);
    buffer.truncate(kept[0]!, 1);
    expect(() => buffer.pushNext(6, '2')).toThrow(/does not follow/);
  });

  it('refuses a bad state array or fixed time when constructed', () => {
    const construct = (...args: unknown[]) => () => new (Native as unknown as new (...rest: unknown[]) => unknown)(...args);
    expect(construct()).toThrow(TypeError);
    expect(construct(new Int32Array(2), null)).toThrow(TypeError);
    expect(construct(new Float64Array(3), null)).toThrow(TypeError);
    expect(construct([0, 0, 0], null)).toThrow(TypeError);
    expect(construct(new Int32Array(3))).toThrow(TypeError);
    expect(construct(new Int32Array(3), 5)).toThrow(TypeError);
    expect(construct(new Int32Array(3), '2026-11-23T10:00:00Z')).toThrow(RangeError);
  });

  it('refuses bad arguments to every call, and a refused push leaves the buffer as it was', () => {
    const { buffer, state } = native();
    const key = hmacKey(Buffer.alloc(16, 1));
    const call = buffer as unknown as Record<string, (...args: unknown[]) => unknown>;
    const push = (...args: unknown[]) => () => call.push!.apply(buffer, args);
    buffer.push(1, GENESIS, null, null, '1', null);
    const kept = [...state];
    const copy = buffer.copy();
    for (const data of [1, undefined, null, Buffer.from('1'), { toString: () => '1' }]) expect(push(2, null, null, null, data, null)).toThrow(TypeError);
    for (const bad of [{}, 'secret', Buffer.alloc(16), 1, []]) expect(push(2, null, null, 'k', '1', bad)).toThrow(/key must come from hmacKey\(\) or be null/);
    expect(push(2, null, null, 7, '1', key)).toThrow(TypeError); // a key id that is not a string
    expect(push(2, null, 5, null, '1', null)).toThrow(TypeError); // a type that is not a string
    expect(push(2, 5, null, null, '1', null)).toThrow(TypeError); // a prev that is not a string
    for (const seq of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) expect(push(seq, null, null, null, '1', null)).toThrow(RangeError);
    expect(push('2', null, null, null, '1', null)).toThrow(TypeError);
    expect(push(2, null, null, null, '1')).toThrow(TypeError);
    expect(push()).toThrow(TypeError);
    expect([...state]).toEqual(kept);
    expect(buffer.copy().equals(copy)).toBe(true);
    // And the chain still goes on from record 1.
    expect(() => buffer.push(2, null, null, null, '2', null)).not.toThrow();

    expect(() => call.startWrite!.call(buffer, '3')).toThrow(TypeError);
    expect(() => call.startWrite!.call(buffer)).toThrow(TypeError);
    expect(() => call.wholeLines!.call(buffer, '3')).toThrow(TypeError);
    expect(() => call.truncate!.call(buffer, 0)).toThrow(TypeError);
    expect(() => call.fold!.call(buffer, new Float64Array(8), 0)).toThrow(TypeError);
    expect(() => call.fold!.call(buffer, new Int32Array(8 * 54), -1)).toThrow(RangeError);
    expect(() => call.fold!.call(buffer, new Int32Array(8), 2 ** 40)).toThrow(RangeError);
    expect([...state]).toEqual([buffer.copy().length, 2, 0]);
  });

  it('a settled failure is a Node-style system error carrying the bytes written', () => {
    const { buffer } = native();
    buffer.push(1, GENESIS, null, null, '1', null);
    buffer.startWrite(1_000_000);
    const failure = failureOf(() => buffer.settle());
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'write', written: 0 });
  });

  it('passes on an exception thrown while it reads the staged records, rather than end the process', () => {
    // In a child, loading the addon as lib/binding does: throwing its own error over the pending one aborts the process.
    const script = `
      const root = ${JSON.stringify(resolve(__dirname, '..'))};
      const { RecordBuffer } = require(root + '/node_modules/node-gyp-build')(root);
      const buffer = new RecordBuffer(new Int32Array(3), null);
      const jsons = ['1'];
      Object.defineProperty(jsons, 1, { get() { throw new Error('from a getter'); } });
      try {
        buffer.startWrite(1, 1, '0'.repeat(64), jsons, null, null);
        console.log('no error');
      } catch (error) {
        console.log(error.message);
      }
      buffer.push(1, '0'.repeat(64), null, null, '1', null);
      console.log(buffer.copy().length > 0 ? 'usable' : 'empty');
    `;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect({ status: result.status, signal: result.signal, stdout: result.stdout }).toEqual({ status: 0, signal: null, stdout: 'from a getter\nusable\n' });
  });
});
