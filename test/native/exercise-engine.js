// Drives the writer's engine in an addon build, error paths included, many times over: RecordBuffer
// (push, truncate, fold, copy, wholeLines, startWrite, settle, write, clear) with every argument shape,
// records up to and past 1 MiB, thousands of writes on the background thread to a file and to bad
// descriptors, buffers collected with their write in flight, and worker threads that end with one
// queued. Run under AddressSanitizer and UndefinedBehaviorSanitizer by sanitize.sh (node --expose-gc).
// Exits non-zero on any unexpected outcome.
'use strict';
const assert = require('node:assert');
const { createHash, createHmac } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker, isMainThread, workerData } = require('node:worker_threads');

const addonPath = isMainThread ? process.argv[2] : workerData.addonPath;
const addon = require(addonPath);
const { RecordBuffer } = addon;
const gc = typeof global.gc === 'function' ? global.gc : () => undefined;

const TS = '2026-11-23T10:00:00.000Z';
const GENESIS = '0'.repeat(64);

// The state array's length the class asks for ([pending bytes, pending records, ...]): exactly that
// many elements, so that a write past them lands outside the array, where AddressSanitizer sees it.
const STATE_LENGTH = (() => {
  for (let length = 1; length <= 16; length += 1) {
    try {
      new RecordBuffer(new Int32Array(length), TS);
      return length;
    } catch {}
  }
  throw new Error('RecordBuffer takes no Int32Array state');
})();
assert.ok(STATE_LENGTH >= 2);

function make(ts = TS) {
  const state = new Int32Array(STATE_LENGTH);
  return { buffer: new RecordBuffer(state, ts), state };
}

const code = (run) => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return error.code ?? error.constructor.name;
  }
};

// The line and hash for a record, from the format's rules by hand (no dependency on the compiled package).
function reference(seq, ts, prev, type, keyId, dataJson, secret) {
  let body = `{"seq":${seq},"ts":"${ts}","prev":"${prev}"`;
  if (type !== null) body += `,"type":"${type}"`;
  if (secret !== null) body += `,"keyId":"${keyId}"`;
  body += `,"data":${dataJson}`;
  if (secret !== null) body += `,"sig":"${createHmac('sha256', secret).update(body).digest('hex')}"`;
  const hash = createHash('sha256').update(body).digest('hex');
  return { line: Buffer.from(`${body},"hash":"${hash}"}\n`), hash };
}

// Secrets around the SHA-256 block size: shorter are padded, longer hashed first.
const SECRETS = [16, 32, 63, 64, 65, 200].map((length) => Buffer.alloc(length, length + 1));
const KEYS = SECRETS.map((secret) => addon.hmacKey(secret));
const TYPES = [null, null, 'recovery', 'seal', 'prune', 'checkpoint'];
const DATA = [
  '{"n":1}',
  JSON.stringify({ text: 'é 😀 \u0000 \ud800 "quoted" \\', list: [1, 2, 3] }),
  '"\ud83d"', // a lone surrogate: U+FFFD in the line's bytes
  '\udc00\ud800', // not JSON at all: written as given
  '',
  'x'.repeat(1020), // about the first scratch size, so the read must be retried
  '\u4e2d'.repeat(341), // three bytes a character, near that size
  '\ud83d\ude00'.repeat(255),
];

/** Pushes `count` records (random types, keys and data) after `prev`; returns their reference lines. */
function pushSome(buffer, round, count, firstSeq, prev) {
  const lines = [];
  let hash = prev;
  for (let i = 0; i < count; i += 1) {
    const n = round * 31 + i;
    const type = TYPES[n % TYPES.length];
    const keyIndex = n % 3 === 0 ? null : n % KEYS.length;
    const data = DATA[n % DATA.length];
    const seq = firstSeq + i;
    const want = reference(seq, TS, hash, type, keyIndex === null ? null : `k${keyIndex}`, data, keyIndex === null ? null : SECRETS[keyIndex]);
    const got = buffer.push(seq, i === 0 || n % 2 === 0 ? hash : null, type, keyIndex === null ? null : `k${keyIndex}`, data, keyIndex === null ? null : KEYS[keyIndex]);
    assert.strictEqual(got, want.hash);
    lines.push(want.line);
    hash = want.hash;
  }
  return { lines, last: hash };
}

const dir = isMainThread ? fs.mkdtempSync(path.join(os.tmpdir(), 'fsao-sanitize-engine-')) : null;
const file = isMainThread ? path.join(dir, 'records.log') : null;
const readOnlyPath = isMainThread ? path.join(dir, 'read-only') : null;
if (isMainThread) fs.writeFileSync(readOnlyPath, '');

function badArguments(buffer, state) {
  const before = [...state];
  const copy = buffer.copy();
  for (const data of [1, undefined, null, Buffer.from('1'), {}, Symbol('x')]) assert.strictEqual(code(() => buffer.push(1, GENESIS, null, null, data, null)), 'TypeError');
  for (const key of [{}, 'secret', Buffer.alloc(16), 1, [], new Int32Array(8)]) assert.strictEqual(code(() => buffer.push(1, GENESIS, null, 'k', '1', key)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, GENESIS, null, 7, '1', KEYS[0])), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, GENESIS, 5, null, '1', null)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, GENESIS, undefined, null, '1', null)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, 5, null, null, '1', null)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, {}, null, null, '1', null)), 'TypeError');
  for (const seq of [-1, 1.5, 2 ** 53, NaN, Infinity, -Infinity]) assert.strictEqual(code(() => buffer.push(seq, GENESIS, null, null, '1', null)), 'RangeError');
  assert.strictEqual(code(() => buffer.push('1', GENESIS, null, null, '1', null)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1n, GENESIS, null, null, '1', null)), 'TypeError');
  assert.strictEqual(code(() => buffer.push(1, GENESIS, null, null, '1')), 'TypeError');
  assert.strictEqual(code(() => buffer.push()), 'TypeError');
  assert.strictEqual(code(() => buffer.truncate()), 'TypeError');
  assert.strictEqual(code(() => buffer.truncate('0', 0)), 'TypeError');
  assert.strictEqual(code(() => buffer.truncate(1, 0)), 'RangeError');
  assert.strictEqual(code(() => buffer.truncate(-1, -1)), 'RangeError');
  assert.strictEqual(code(() => buffer.truncate(NaN, 1)), 'RangeError');
  assert.strictEqual(code(() => buffer.truncate(buffer.copy().length, 1e9)), 'RangeError');
  assert.strictEqual(code(() => buffer.truncate(2 ** 60, 1)), 'RangeError');
  assert.strictEqual(code(() => buffer.wholeLines()), 'TypeError');
  assert.strictEqual(code(() => buffer.wholeLines('1')), 'TypeError');
  assert.strictEqual(code(() => buffer.fold()), 'TypeError');
  assert.strictEqual(code(() => buffer.fold(new Float64Array(8), 0)), 'TypeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(8 * 54), '0')), 'TypeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(8 * 54), -1)), 'RangeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(8 * 54), 0.5)), 'RangeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(8 * 54), 2 ** 53)), 'RangeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(0), 0)), 'RangeError');
  assert.strictEqual(code(() => buffer.fold(new Int32Array(8 * 10), 2 ** 40)), 'RangeError');
  assert.strictEqual(code(() => buffer.startWrite()), 'TypeError');
  assert.strictEqual(code(() => buffer.startWrite('3')), 'TypeError');
  assert.strictEqual(code(() => buffer.write({})), 'TypeError');
  // Methods called on something that is not a RecordBuffer: refused or ignored, never followed.
  code(() => RecordBuffer.prototype.push.call({}, 1, GENESIS, null, null, '1', null));
  code(() => RecordBuffer.prototype.settle.call(Object.create(RecordBuffer.prototype)));
  code(() => RecordBuffer.prototype.startWrite.call(Object.create(RecordBuffer.prototype), 1));
  assert.deepStrictEqual([...state], before);
  assert.deepStrictEqual(buffer.copy(), copy);
}

function badConstruction() {
  const construct = (...args) => code(() => new RecordBuffer(...args));
  assert.strictEqual(construct(), 'TypeError');
  assert.strictEqual(construct(new Int32Array(STATE_LENGTH)), 'TypeError');
  assert.strictEqual(construct(new Int32Array(STATE_LENGTH - 1), TS), 'TypeError');
  assert.strictEqual(construct(new Float64Array(STATE_LENGTH), TS), 'TypeError');
  assert.strictEqual(construct(new Uint32Array(STATE_LENGTH), TS), 'TypeError');
  assert.strictEqual(construct([0, 0, 0], TS), 'TypeError');
  assert.strictEqual(construct(new Int32Array(STATE_LENGTH), 5), 'TypeError');
  assert.strictEqual(construct(new Int32Array(STATE_LENGTH), 'short'), 'RangeError');
  assert.strictEqual(construct(new Int32Array(STATE_LENGTH), 'x'.repeat(5000)), 'RangeError');
  assert.notStrictEqual(code(() => RecordBuffer(new Int32Array(STATE_LENGTH), TS)), 'ok');
  // A view into the middle of a larger, shared buffer.
  const shared = new Int32Array(new SharedArrayBuffer(4 * (STATE_LENGTH + 2)), 8, STATE_LENGTH);
  const buffer = new RecordBuffer(shared, TS);
  buffer.push(1, GENESIS, null, null, '1', null);
  assert.strictEqual(shared[1], 1);
}

// The fold of the pending records against foldRecordLines over their bytes.
function foldChecked(buffer, size) {
  const stack = new Int32Array(8 * 54);
  const expected = new Int32Array(8 * 54);
  let roots = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) roots += rest % 2;
  for (let i = 0; i < 8 * roots; i += 1) stack[i] = expected[i] = (i * 2654435761) | 0;
  const bytes = buffer.copy();
  const next = buffer.fold(stack, size);
  assert.strictEqual(next, addon.foldRecordLines(expected, size, bytes, 0, bytes.length));
  assert.deepStrictEqual(stack, expected);
}

/** Many writes through one buffer to `fd`: pushes between startWrite and settle, empty writes, write(). */
function writeCycles(round, fd) {
  const { buffer, state } = make();
  const written = [];
  let pending = [];
  let seq = 1;
  let prev = GENESIS;
  const push = (count, salt) => {
    const { lines, last } = pushSome(buffer, round + salt, count, seq, prev);
    seq += count;
    prev = last;
    pending.push(...lines);
    assert.strictEqual(state[0], pending.reduce((sum, line) => sum + line.length, 0));
    assert.strictEqual(state[1], pending.length);
  };
  for (let cycle = 0; cycle < 12; cycle += 1) {
    push((round + cycle) % 5, cycle); // 0 records: an empty write
    const writing = pending;
    written.push(...writing);
    pending = [];
    if (cycle % 3 === 2) {
      buffer.write(fd);
    } else {
      buffer.startWrite(fd);
      assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
      assert.strictEqual(code(() => buffer.startWrite(fd)), 'Error'); // one write at a time
      // The next records are encoded while the last are written.
      push(2, cycle + 7);
      buffer.settle();
      buffer.settle(); // nothing in flight: returns at once
    }
    let end = 0;
    for (let i = 0; i < writing.length; i += 1) {
      end += writing[i].length;
      assert.strictEqual(buffer.wholeLines(end), i + 1);
      assert.strictEqual(buffer.wholeLines(end - 1), i);
    }
  }
  written.push(...pending);
  buffer.write(fd);
  assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
  return Buffer.concat(written);
}

/**
 * Records staged as data for the writer's thread to encode (startWrite(fd, seq, prev, jsons, keyId, key)):
 * after pending ones, chained on a given prev or on the last push, signed or not, and refused arguments.
 */
function stagedWrites(round, fd) {
  const { buffer, state } = make();
  const written = [];
  const keyIndex = round % (KEYS.length + 1);
  const key = keyIndex === KEYS.length ? null : KEYS[keyIndex];
  const keyId = key === null ? null : `k${keyIndex}`;
  const secret = key === null ? null : SECRETS[keyIndex];
  let seq = 1;
  let prev = GENESIS;
  for (let cycle = 0; cycle < 6; cycle += 1) {
    const pending = pushSome(buffer, round + cycle, cycle % 3, seq, prev);
    seq += cycle % 3;
    prev = pending.last;
    written.push(...pending.lines);
    const jsons = Array.from({ length: 1 + ((round + cycle) % 40) }, (_, i) => DATA[(round + cycle + i) % DATA.length]);
    let hashes = '';
    for (const [i, json] of jsons.entries()) {
      const want = reference(seq + i, TS, prev, null, keyId, json, secret);
      written.push(want.line);
      hashes += want.hash;
      prev = want.hash;
    }
    // A null prev: the record pushed last (or settled last, staged); the first cycle names it.
    const given = cycle === 0 ? GENESIS : null;
    buffer.startWrite(fd, seq, given, jsons, keyId, key);
    assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
    assert.strictEqual(code(() => buffer.startWrite(fd, seq, null, jsons, keyId, key)), 'Error');
    assert.strictEqual(buffer.settle(), hashes);
    seq += jsons.length;
  }
  // Refused arguments, before anything is handed over.
  const refused = (...args) => code(() => buffer.startWrite(fd, ...args));
  assert.strictEqual(refused(-1, null, ['1'], null, null), 'RangeError');
  assert.strictEqual(refused(1.5, null, ['1'], null, null), 'RangeError');
  assert.strictEqual(refused(2 ** 53, null, ['1'], null, null), 'RangeError');
  assert.strictEqual(refused(NaN, null, ['1'], null, null), 'RangeError');
  assert.strictEqual(refused('1', null, ['1'], null, null), 'TypeError');
  assert.strictEqual(refused(1, 5, ['1'], null, null), 'TypeError');
  assert.strictEqual(refused(1, null, ['1', 2], null, null), 'TypeError');
  assert.strictEqual(refused(1, null, [undefined], null, null), 'TypeError');
  assert.strictEqual(refused(1, null, ['1'], 'k', {}), 'TypeError');
  assert.strictEqual(refused(1, null, ['1'], 'k', 'secret'), 'TypeError');
  assert.strictEqual(refused(1, null, ['1'], 7, KEYS[0]), 'TypeError');
  assert.strictEqual(refused(1, null, ['1'], null), 'TypeError');
  const sparse = ['1'];
  sparse[5] = '2';
  assert.strictEqual(refused(1, GENESIS, sparse, null, null), 'TypeError');
  assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
  // No record to chain on: a fresh buffer, and one whose last push was taken back.
  const fresh = make().buffer;
  assert.strictEqual(code(() => fresh.startWrite(fd, 1, null, ['1'], null, null)), 'Error');
  fresh.push(1, GENESIS, null, null, '1', null);
  fresh.truncate(0, 0);
  assert.strictEqual(code(() => fresh.startWrite(fd, 1, null, ['1'], null, null)), 'Error');
  // An empty list stages nothing; the pending records are written.
  const last = pushSome(buffer, round, 2, seq, prev);
  written.push(...last.lines);
  buffer.startWrite(fd, seq + 2, null, [], null, null);
  assert.strictEqual(buffer.settle(), '');
  return Buffer.concat(written);
}

/** A staged write that fails: its hashes are still given, with the bytes written (none). */
function failingStagedWrite(round) {
  const { buffer } = make();
  buffer.push(1, GENESIS, null, null, '1', null);
  const jsons = Array.from({ length: 1 + (round % 50) }, (_, i) => DATA[i % DATA.length]);
  buffer.startWrite(1_000_000 + round, 2, null, jsons, 'k1', KEYS[1]);
  let failure = null;
  try {
    buffer.settle();
  } catch (error) {
    failure = error;
  }
  assert.strictEqual(failure.code, 'EBADF');
  assert.strictEqual(failure.written, 0);
  assert.strictEqual(failure.hashes.length, 64 * jsons.length);
  assert.strictEqual(buffer.wholeLines(Number.MAX_SAFE_INTEGER), 1 + jsons.length);
  // Not written: nothing to continue from until a record is pushed with its prev.
  assert.strictEqual(code(() => buffer.push(2 + jsons.length, null, null, null, '1', null)), 'Error');
}

/** pushNext(seq, dataJson): the next data record with the last one's key. */
function nextRecords(round) {
  const { buffer } = make();
  assert.strictEqual(code(() => buffer.pushNext(1, '1')), 'Error');
  const keyIndex = round % KEYS.length;
  const first = reference(1, TS, GENESIS, null, `k${keyIndex}`, '1', SECRETS[keyIndex]);
  assert.strictEqual(buffer.push(1, GENESIS, null, `k${keyIndex}`, '1', KEYS[keyIndex]), first.hash);
  let prev = first.hash;
  const lines = [first.line];
  for (let seq = 2; seq < 30; seq += 1) {
    const data = DATA[(round + seq) % DATA.length];
    const want = reference(seq, TS, prev, null, `k${keyIndex}`, data, SECRETS[keyIndex]);
    assert.strictEqual(buffer.pushNext(seq, data), want.hash);
    prev = want.hash;
    lines.push(want.line);
    if (seq % 7 === 0) gc(); // the key object is held by the buffer, not by this function
  }
  assert.deepStrictEqual(buffer.copy(), Buffer.concat(lines));
  assert.strictEqual(code(() => buffer.pushNext(31, '1')), 'Error'); // skips 30
  assert.strictEqual(code(() => buffer.pushNext(29, '1')), 'Error');
  assert.strictEqual(code(() => buffer.pushNext(30, 1)), 'TypeError');
  assert.strictEqual(code(() => buffer.pushNext(30)), 'TypeError');
  assert.strictEqual(code(() => buffer.pushNext('30', '1')), 'TypeError');
  // A record of another type does not change the key pushNext signs with.
  buffer.push(30, null, 'seal', null, '{}', null);
  assert.strictEqual(code(() => buffer.pushNext(31, '1')), 'ok');
}

/** Writes that fail: a read-only descriptor, numbers no file has, a negative one. */
function failingWrites(round) {
  const { buffer, state } = make();
  const readOnly = fs.openSync(readOnlyPath, 'r');
  try {
    for (const fd of [readOnly, 1_000_000 + round, -1, 2 ** 31 - 1]) {
      const { lines } = pushSome(buffer, round, 1 + (round % 3), 1, GENESIS);
      buffer.startWrite(fd);
      assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
      let failure = null;
      try {
        buffer.settle();
      } catch (error) {
        failure = error;
      }
      assert.ok(failure instanceof Error);
      assert.strictEqual(failure.code, 'EBADF');
      assert.strictEqual(failure.syscall, 'write');
      assert.strictEqual(failure.written, 0);
      assert.strictEqual(buffer.wholeLines(0), 0);
      assert.strictEqual(buffer.wholeLines(Number.MAX_SAFE_INTEGER), lines.length);
      assert.strictEqual(code(() => buffer.write(fd)), 'ok'); // nothing pending: nothing to fail
    }
    // A write that fails is followed by one that does not, on the same buffer.
    buffer.push(1, GENESIS, null, null, '1', null);
    assert.strictEqual(code(() => buffer.write(readOnly)), 'EBADF');
  } finally {
    fs.closeSync(readOnly);
  }
}

/** Buffers dropped with their write in flight (never settled), then collected. */
function abandonedWrites(round, fd) {
  const expected = [];
  for (let i = 0; i < 4; i += 1) {
    const { buffer } = make();
    const { lines, last } = pushSome(buffer, round + i, 20, 1, GENESIS);
    expected.push(...lines);
    if (i === 3) {
      // Staged records encoded on the writer's thread after the buffer is gone.
      const jsons = DATA.slice(0, 6);
      let prev = last;
      for (const [n, json] of jsons.entries()) {
        const want = reference(21 + n, TS, prev, null, 'k2', json, SECRETS[2]);
        expected.push(want.line);
        prev = want.hash;
      }
      buffer.startWrite(fd, 21, null, jsons, 'k2', KEYS[2]);
    } else {
      buffer.startWrite(fd);
    }
    if (i % 2 === 1) pushSome(buffer, round, 3, 21, last); // pending, never written
  }
  gc();
  gc();
  return Buffer.concat(expected);
}

function bigRecords(round) {
  const { buffer, state } = make();
  const sizes = [(1 << 20) - 600, 3 << 20, 1 << 10];
  let prev = GENESIS;
  const lines = [];
  for (const [i, size] of sizes.entries()) {
    const data = JSON.stringify(round % 2 === 0 ? 'y'.repeat(size) : '\u00e9'.repeat(size / 2));
    const want = reference(i + 1, TS, prev, null, 'k1', data, SECRETS[1]);
    assert.strictEqual(buffer.push(i + 1, i === 0 ? prev : null, null, 'k1', data, KEYS[1]), want.hash);
    prev = want.hash;
    lines.push(want.line);
  }
  assert.deepStrictEqual(buffer.copy(), Buffer.concat(lines));
  assert.strictEqual(state[0], Buffer.concat(lines).length);
  foldChecked(buffer, round);
  // Takes back the last, then the two big ones; then frees their memory.
  buffer.truncate(lines[0].length + lines[1].length, 2);
  buffer.truncate(lines[0].length, 1);
  assert.deepStrictEqual(buffer.copy(), lines[0]);
  buffer.clear();
  assert.deepStrictEqual([...state].slice(0, 2), [0, 0]);
  assert.strictEqual(code(() => buffer.push(2, null, null, null, '1', null)), 'Error');
}

function clockRecords() {
  const { buffer } = make(null);
  for (let i = 0; i < 50; i += 1) buffer.push(i + 1, i === 0 ? GENESIS : null, null, null, '1', null);
  const lines = buffer.copy().toString().split('\n').slice(0, -1);
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    const ts = /"ts":"([^"]*)"/.exec(line)[1];
    assert.strictEqual(new Date(ts).toISOString(), ts);
    const want = reference(i + 1, ts, prev, null, null, '1', null);
    assert.strictEqual(`${line}\n`, want.line.toString());
    prev = want.hash;
  }
}

// In a worker: writes and queues more, then ends without settling (the environment's cleanup must finish
// the queued writes and stop the thread), or is terminated in the middle of its calls.
function workerMain() {
  const fd = fs.openSync(workerData.file, 'a');
  const expected = [];
  for (let i = 0; i < workerData.writes; i += 1) {
    const { buffer } = make();
    expected.push(...pushSome(buffer, i, 30, 1, GENESIS).lines);
    buffer.startWrite(fd);
  }
  fs.writeFileSync(workerData.expected, Buffer.concat(expected));
  // Calls the addon until terminated, most likely inside a call: that ends the worker, not the process.
  if (workerData.spin) for (;;) make().buffer.push(1, GENESIS, null, null, 'x'.repeat(10000), null);
  // The descriptor stays open: the queued writes may still be running when the worker ends.
}

async function inWorker(round, spin) {
  const workerFile = path.join(dir, `worker-${round}.log`);
  const expectedFile = path.join(dir, `worker-${round}.expected`);
  const worker = new Worker(__filename, { workerData: { addonPath, file: workerFile, expected: expectedFile, writes: 20, spin } });
  if (spin) {
    // Terminated once it has queued its writes, at a moment that varies with the round.
    while (!fs.existsSync(expectedFile) || fs.statSync(expectedFile).size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, round % 7));
    await worker.terminate();
  } else {
    await new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (exitCode) => (exitCode === 0 ? resolve() : reject(new Error(`worker exited ${exitCode}`))));
    });
  }
  assert.deepStrictEqual(fs.readFileSync(workerFile), fs.readFileSync(expectedFile));
}

async function main() {
  const fd = fs.openSync(file, 'a');
  let expected = [];
  for (let round = 0; round < 400; round += 1) {
    const { buffer, state } = make();
    const { lines } = pushSome(buffer, round, 1 + (round % 9), round + 1, 'ab'.repeat(32));
    assert.deepStrictEqual(buffer.copy(), Buffer.concat(lines));
    foldChecked(buffer, [0, 1, 5, 2 ** 20 - 3, 2 ** 52][round % 5]);
    badArguments(buffer, state);
    expected.push(writeCycles(round, fd));
    failingWrites(round);
    expected.push(abandonedWrites(round, fd));
    expected.push(stagedWrites(round, fd));
    failingStagedWrite(round);
    nextRecords(round);
    if (round % 50 === 0) {
      bigRecords(round);
      badConstruction();
      clockRecords();
    }
    if (round % 100 === 0) await inWorker(round, false);
    if (round % 20 === 1) await inWorker(round, true);
    if (round % 40 === 39) {
      // Every write queued so far is done once this one is settled: one thread, jobs in order.
      make().buffer.write(fd);
      assert.deepStrictEqual(fs.readFileSync(file), Buffer.concat(expected));
      gc();
    }
  }
  make().buffer.write(fd);
  assert.deepStrictEqual(fs.readFileSync(file), Buffer.concat(expected));
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('exercised the record buffer 400 rounds: no finding');
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
} else {
  workerMain();
}
