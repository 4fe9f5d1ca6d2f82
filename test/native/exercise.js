// Drives every call of an addon build, error paths included, many times over: run under AddressSanitizer
// and UndefinedBehaviorSanitizer by sanitize.sh. Exits non-zero on any unexpected outcome.
'use strict';
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const addon = require(process.argv[2]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsao-sanitize-'));
const file = path.join(dir, 'audit.log');
const link = path.join(dir, 'link');
const fifo = path.join(dir, 'fifo');
fs.writeFileSync(file, 'x\n');
fs.symlinkSync(file, link);
execFileSync('mkfifo', [fifo]);
const bytes = (p) => Buffer.from(p);
const code = (run) => {
  try {
    run();
    return 'ok';
  } catch (error) {
    return error.code ?? error.constructor.name;
  }
};

// Chained records, built from the format's rules by hand (no dependency on the compiled package): more
// lines than the scanner's threshold for hashing on a second thread (kParallelLines in src/scan.cc).
const RECORDS = 600;
const chain = (() => {
  const { createHash } = require('node:crypto');
  let prev = '0'.repeat(64);
  let text = '';
  for (let seq = 1; seq <= RECORDS; seq += 1) {
    const body = `{"seq":${seq},"ts":"2026-11-22T10:00:00.000Z","prev":"${prev}","data":{"n":${seq}}`;
    prev = createHash('sha256').update(body).digest('hex');
    text += `${body},"hash":"${prev}"}\n`;
  }
  return Buffer.from(text);
})();

// The same, signed: the first half by k1, the rest by k2 (a key rotation), each HMAC over the bytes before
// ,"sig":, as the format says. Key secrets of one block and of more than one (hashed first).
const SCAN_KEYS = [['k1', Buffer.alloc(64, 1)], ['k2', Buffer.alloc(100, 2)]];
const signedChain = (() => {
  const { createHash, createHmac } = require('node:crypto');
  let prev = '0'.repeat(64);
  let text = '';
  for (let seq = 1; seq <= RECORDS; seq += 1) {
    const [id, secret] = SCAN_KEYS[seq <= RECORDS / 2 ? 0 : 1];
    const body = `{"seq":${seq},"ts":"2026-11-22T10:00:00.000Z","prev":"${prev}","keyId":"${id}","data":{"n":${seq}}`;
    const signed = `${body},"sig":"${createHmac('sha256', secret).update(body).digest('hex')}"`;
    prev = createHash('sha256').update(signed).digest('hex');
    text += `${signed},"hash":"${prev}"}\n`;
  }
  return Buffer.from(text);
})();

// The scanner with keys, its helper thread and its stretches, on the signed chain: taken whole, stopped at
// a changed signature (in the first half, the probe's, and the second, the helper's), at an unknown key.
function scanSigned(round) {
  const genesis = '0'.repeat(64);
  const scanner = addon.recordScanner(round % 7 === 0 ? [...SCAN_KEYS, ['k1', SCAN_KEYS[0][1]]] : SCAN_KEYS);
  assert.deepStrictEqual(addon.scanRecords(signedChain, 0, signedChain.length, 1, genesis, 0, scanner).slice(0, 3), [signedChain.length, RECORDS, RECORDS + 1]);
  const sigAt = (line) => {
    let at = 0;
    for (let i = 0; i < line; i += 1) at = signedChain.indexOf(0x0a, at) + 1;
    return signedChain.indexOf(',"sig":"', at) + 8;
  };
  const line = round % 2 === 0 ? 3 : RECORDS - 1 - (round % 200);
  const forged = Buffer.from(signedChain);
  forged[sigAt(line)] ^= 1;
  assert.strictEqual(addon.scanRecords(forged, 0, forged.length, 1, genesis, 0, scanner)[1], line);
  const withoutK2 = addon.recordScanner([SCAN_KEYS[0]]);
  assert.strictEqual(addon.scanRecords(signedChain, 0, signedChain.length, 1, genesis, 0, withoutK2)[1], RECORDS / 2);
  addon.closeRecordScanner(withoutK2);
  // Without keys a signed record is taken on its hash, unsigned ones with keys are not.
  const keyless = addon.recordScanner(null);
  assert.strictEqual(addon.scanRecords(signedChain, 0, signedChain.length, 1, genesis, 0, keyless)[1], RECORDS);
  assert.strictEqual(addon.scanRecords(chain, 0, chain.length, 1, genesis, 0, scanner)[1], 0);
  addon.closeRecordScanner(keyless);
  addon.closeRecordScanner(keyless);
  // A closed scanner scans again; one never closed is collected with its thread.
  addon.closeRecordScanner(scanner);
  assert.strictEqual(addon.scanRecords(signedChain, 0, 5000, 1, genesis, 0, scanner)[1] > 0, true);
  if (round % 10 !== 0) addon.closeRecordScanner(scanner);
}

// The scanner reading a file itself: the signed chain many times over (each copy a chain of its own, so
// the scan stops at the second), a long record across blocks, bounded spans, a close asked for mid-scan.
const scanFile = path.join(dir, 'signed.log');
fs.writeFileSync(scanFile, Buffer.concat([signedChain, signedChain, Buffer.from(`{"seq":1,${'x'.repeat(700_000)}\n`), signedChain]));
async function scanFileChecked(round) {
  const genesis = '0'.repeat(64);
  const fd = fs.openSync(scanFile, 'r');
  const scanner = addon.recordScanner(round % 2 === 0 ? SCAN_KEYS : null);
  try {
    assert.deepStrictEqual((await addon.scanFile(scanner, fd, 0, 2 ** 53 - 1, 1, genesis, 0)).slice(0, 3), [signedChain.length, RECORDS, RECORDS + 1]);
    let position = 0;
    let seq = 1;
    let prev = genesis;
    for (;;) {
      const [bytes, lines, next, last, more] = await addon.scanFile(scanner, fd, position, position + 1 + (round % 40_000), seq, prev, 0);
      position += bytes;
      seq = next;
      prev = last;
      if (!more) break;
      assert.strictEqual(lines > 0, true);
    }
    assert.strictEqual(position, signedChain.length);
    const after = await addon.scanFile(scanner, fd, signedChain.length * 2, 2 ** 53 - 1, 1, genesis, 0);
    assert.deepStrictEqual(after.slice(0, 2), [0, 0]);
    assert.strictEqual((await addon.scanFile(scanner, fd, 0, 0, 1, genesis, 0))[0], 0);
    const running = addon.scanFile(scanner, fd, 0, 2 ** 53 - 1, 1, genesis, 7);
    assert.strictEqual(code(() => addon.scanRecords(signedChain, 0, 10, 1, genesis, 0, scanner)), 'Error');
    addon.closeRecordScanner(scanner);
    assert.strictEqual((await running)[1], 6);
    assert.deepStrictEqual((await addon.scanFile(scanner, 123456, 0, 10, 1, genesis, 0)).slice(0, 2), [0, 0]); // a read that fails ends the scan
  } finally {
    fs.closeSync(fd);
    addon.closeRecordScanner(scanner);
  }
  assert.strictEqual(code(() => addon.scanFile({}, 0, 0, 1, 1, genesis, 0)), 'TypeError');
  assert.strictEqual(code(() => addon.scanFile(scanner, -1, 0, 1, 1, genesis, 0)), 'RangeError');
  assert.strictEqual(code(() => addon.scanFile(scanner, 0, 0.5, 1, 1, genesis, 0)), 'RangeError');
  assert.strictEqual(code(() => addon.scanFile(scanner, 0, 5, 4, 1, genesis, 0)), 'RangeError');
  assert.strictEqual(code(() => addon.scanFile(scanner, 0, 0, 1, 1, 'short', 0)), 'RangeError');
  assert.strictEqual(code(() => addon.scanFile(scanner, 0, 0, 1, 1, genesis)), 'TypeError');
}

// A worker ended while its scan of a file runs: the environment's cleanup waits for the scan, then
// frees the scanner and its thread.
async function scanInWorker(round) {
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const addon = require(workerData.addon);
     const fd = require('node:fs').openSync(workerData.file, 'r');
     const scanner = addon.recordScanner(null);
     (async () => { for (;;) await addon.scanFile(scanner, fd, 0, 2 ** 53 - 1, 1, '0'.repeat(64), 0); })();`,
    { eval: true, workerData: { addon: process.argv[2], file: scanFile } },
  );
  await new Promise((resolve) => setTimeout(resolve, round % 20));
  await worker.terminate();
}

// The record encoder and the Merkle fold, checked against node:crypto from the format's rules.
const { createHash, createHmac } = require('node:crypto');
const SECRETS = [0, 1, 32, 63, 64, 65, 200].map((length) => Buffer.alloc(length, length + 1));
const KEYS = SECRETS.map((secret) => addon.hmacKey(secret));
const DATA = [
  '{"n":1}',
  JSON.stringify({ text: 'é 😀 \u0000 \ud800 "quoted" \\', list: [1, 2, 3] }),
  JSON.stringify({ big: 'x'.repeat(100_000) }),
  '"\ud83d"', // a lone surrogate: U+FFFD in the line's bytes
];
function encodeChecked(seq, type, keyIndex, data) {
  const key = keyIndex === null ? null : KEYS[keyIndex];
  const line = addon.encodeRecord(seq, '2026-11-22T10:00:00.000Z', 'a'.repeat(64), type, key === null ? null : 'k1', data, key);
  const bytes = Buffer.from(line);
  const hashAt = bytes.length - 76; // ,"hash":"<64>"}\n
  assert.strictEqual(bytes.toString('latin1', hashAt, hashAt + 9), ',"hash":"');
  assert.strictEqual(bytes.toString('latin1', hashAt + 9, hashAt + 73), createHash('sha256').update(bytes.subarray(0, hashAt)).digest('hex'));
  if (key !== null) {
    const sigAt = hashAt - 73;
    const sig = createHmac('sha256', SECRETS[keyIndex]).update(bytes.subarray(0, sigAt)).digest('hex');
    assert.strictEqual(bytes.toString('latin1', sigAt, hashAt), `,"sig":"${sig}"`);
  }
}
const sha256 = (...parts) => parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest();
function mth(leaves) {
  if (leaves.length === 1) return sha256(Buffer.of(0), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function foldChecked(leafCount) {
  const stack = new Int32Array(8 * 54);
  const words = new Int32Array(8);
  const leaves = [];
  let count = 0;
  for (let size = 0; size < leafCount; size += 1) {
    const leaf = sha256(Buffer.from(String(size)));
    leaves.push(leaf);
    if (size % 2 === 0) {
      count = addon.foldLeaf(stack, count, size, leaf.toString('hex'), 0, false);
    } else {
      for (let i = 0; i < 8; i += 1) words[i] = leaf.readInt32BE(4 * i);
      count = addon.foldLeaf(stack, count, size, words, 0, false);
    }
  }
  // The root: the subtree roots folded right to left.
  const roots = [];
  for (let i = 0; i < count; i += 1) {
    const root = Buffer.alloc(32);
    for (let j = 0; j < 8; j += 1) root.writeInt32BE(stack[8 * i + j], 4 * j);
    roots.push(root);
  }
  const root = roots.reduceRight((right, left) => sha256(Buffer.of(1), left, right));
  assert.deepStrictEqual(root, mth(leaves));
}

// The batch fold of record lines against foldLeaf one line at a time, on the chain's lines mixed with
// lines that are no records, from a given size, over [start, end) (a cut may split a line).
const CHAIN_LINES = chain.toString('latin1').split('\n').slice(0, -1);
const OTHER_LINES = ['', '~', '{"seq":1}', `,"hash":"${'a'.repeat(64)}"`, `{"hash":"${'A'.repeat(64)}"}`, `{"hash":"${'a'.repeat(63)}"}`, `{"hash":"${'a'.repeat(63)}\u00e9"}`];
function linesChecked(round) {
  const parts = [];
  for (let i = 0; i < 40 + (round % 60); i += 1) {
    parts.push(i % 5 === 4 ? OTHER_LINES[(round + i) % OTHER_LINES.length] : CHAIN_LINES[(round * 7 + i) % CHAIN_LINES.length]);
  }
  const bytes = Buffer.from(parts.join('\n') + (round % 2 === 0 ? '\n' : ''));
  const start = round % 3 === 0 ? 0 : round % bytes.length;
  const end = round % 4 === 0 ? bytes.length : start + ((round * 31) % (bytes.length - start + 1));
  const size = [0, 1, 2 ** 20 - 5, 2 ** 40 + round, 2 ** 52 + round][round % 5];
  const roots = (() => {
    let n = 0;
    for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) n += rest % 2;
    return n;
  })();
  const batch = new Int32Array(8 * 54);
  for (let i = 0; i < 8 * roots; i += 1) batch[i] = (i * 2654435761) | 0;
  const single = batch.slice();
  const newSize = addon.foldRecordLines(batch, size, bytes, start, end);
  let count = roots;
  let at = size;
  const text = bytes.toString('latin1', start, end).split('\n');
  text.pop();
  for (const line of text) {
    const match = /,"hash":"([0-9a-f]{64})"\}$/.exec(line);
    if (match === null) continue;
    count = addon.foldLeaf(single, count, at, match[1], 0, false);
    at += 1;
  }
  assert.strictEqual(newSize, at);
  assert.deepStrictEqual(batch, single);
}

async function main() {
  const server = net.createServer().listen(path.join(dir, 'sock'));
  await new Promise((resolve) => server.once('listening', resolve));
  const fixture = (name) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', name), 'utf8');
  const signals = {
    dockerEnv: false,
    containerEnv: false,
    systemdContainer: null,
    pid1Environ: 'PATH=/bin\0container=lxc\0',
    cgroup: fixture('cgroup-v1-kubernetes.txt'),
    mountinfo: fixture('mountinfo-docker.txt'),
    kubernetesServiceHost: null,
  };
  for (let round = 0; round < 2000; round += 1) {
    for (const mask of [addon.APPEND_ONLY, addon.IMMUTABLE]) {
      addon.changeFlagsSync(bytes(file), mask, true, false);
      assert.strictEqual(addon.readStateSync(file), mask);
      const attributes = addon.readAttributesSync(bytes(file));
      assert.strictEqual(attributes.appendOnly || attributes.immutable, true);
      assert.strictEqual(attributes.filesystem.length > 0, true);
      addon.changeFlagsSync(file, mask, false, false);
      assert.strictEqual(addon.readStateSync(bytes(file)), 0);
    }
    const held = fs.openSync(file, 'a');
    addon.changeFlagsFdSync(held, addon.APPEND_ONLY, true, false);
    assert.strictEqual(addon.readStateSync(file), addon.APPEND_ONLY);
    addon.changeFlagsFdSync(held, addon.APPEND_ONLY, false, false);
    fs.closeSync(held);
    assert.strictEqual(code(() => addon.changeFlagsFdSync(held, addon.APPEND_ONLY, true, false)), 'EBADF');
    assert.strictEqual(code(() => addon.changeFlagsFdSync(-1, addon.APPEND_ONLY, true, false)), 'RangeError');
    assert.strictEqual(code(() => addon.changeFlagsFdSync(0.5, addon.APPEND_ONLY, true, false)), 'RangeError');
    assert.strictEqual(code(() => addon.changeFlagsFdSync(1, 'mask', true, false)), 'TypeError');
    const fifoFd = fs.openSync(fifo, 'r+');
    assert.strictEqual(code(() => addon.changeFlagsFdSync(fifoFd, addon.APPEND_ONLY, true, false)), 'ENOTSUP');
    fs.closeSync(fifoFd);
    assert.strictEqual(code(() => addon.readAttributesSync(bytes(link))), 'ELOOP');
    assert.strictEqual(code(() => addon.readAttributesSync(bytes(fifo))), 'ENOTSUP');
    assert.strictEqual(code(() => addon.readAttributesSync(bytes(path.join(dir, 'sock')))), 'ENOTSUP');
    assert.strictEqual(code(() => addon.changeFlagsSync(bytes('/dev/null'), addon.APPEND_ONLY, true, false)), 'ENOTSUP');
    assert.strictEqual(code(() => addon.readAttributesSync(bytes(path.join(dir, 'missing')))), 'ENOENT');
    assert.strictEqual(code(() => addon.readAttributesSync(bytes('x'.repeat(5000)))), 'ENAMETOOLONG');
    assert.strictEqual(code(() => addon.readAttributesSync(Buffer.from('a\0b'))), 'TypeError');
    assert.strictEqual(code(() => addon.readAttributesSync(42)), 'TypeError');
    assert.strictEqual(code(() => addon.readStateSync(path.join(dir, 'missing'))), 'ENOENT');
    assert.strictEqual(code(() => addon.changeFlagsSync(bytes(file), 'mask')), 'TypeError');
    assert.strictEqual(addon.filesystemNameSync(bytes(dir)).length > 0, true);
    assert.strictEqual(code(() => addon.filesystemNameSync(bytes(path.join(dir, 'missing')))), 'ENOENT');

    // The probe, on this machine and on fixture texts, hostile ones included.
    assert.strictEqual(typeof addon.probeProcessSync().hasCapability, 'boolean');
    assert.strictEqual(addon.parseProcText('status', fixture('status-root.txt')), 0x000001ffffffffffn);
    assert.strictEqual(addon.parseProcText('status', 'CapEff:\t' + 'f'.repeat(5000)), null);
    assert.strictEqual(addon.parseProcText('uid_map', fixture('uid_map-rootless.txt')), true);
    assert.strictEqual(addon.parseProcText('uid_map', ' \n\t'), true);
    assert.deepStrictEqual(addon.parseProcText('container', signals), { inContainer: true, containerRuntime: 'kubernetes' });
    assert.deepStrictEqual(addon.parseProcText('container', { mountinfo: ' - overlay\n - \n1 2 3 4 / - overlay x' }), { inContainer: true, containerRuntime: null });
    assert.strictEqual(code(() => addon.parseProcText('container', { cgroup: 3 })), 'TypeError');
    assert.strictEqual(code(() => addon.parseProcText('nope', '')), 'RangeError');

    assert.strictEqual(addon.lockMethod, 'flock');
    const fd = fs.openSync(file, 'r');
    assert.strictEqual(addon.lockSync(fd, 1), true);
    addon.lockSync(fd, 2);
    addon.lockSync(fd, 0);
    addon.lockSync(fd, 2);
    fs.closeSync(fd);
    assert.strictEqual(code(() => addon.lockSync(123456, 1)), 'EBADF');
    assert.strictEqual(code(() => addon.lockSync(fd, 7)), 'RangeError');

    // The verifier's fast path: a valid chain long enough for two threads, then damaged, truncated and
    // hostile buffers.
    const [consumed, lines, nextSeq] = addon.scanRecords(chain, 0, chain.length, 1, '0'.repeat(64), 0);
    assert.deepStrictEqual([consumed, lines, nextSeq], [chain.length, RECORDS, RECORDS + 1]);
    const damaged = Buffer.from(chain);
    damaged[damaged.length - 20] ^= 1;
    assert.strictEqual(addon.scanRecords(damaged, 0, damaged.length, 1, '0'.repeat(64), 0)[1], RECORDS - 1);
    const early = Buffer.from(chain);
    early[100] ^= 1; // in the first line: the first thread's half
    assert.strictEqual(addon.scanRecords(early, 0, early.length, 1, '0'.repeat(64), 0)[1], 0);
    assert.strictEqual(addon.scanRecords(chain, 0, chain.length - 1, 1, '0'.repeat(64), 0)[1], RECORDS - 1);
    assert.strictEqual(addon.scanRecords(chain, 5, chain.length, 1, '0'.repeat(64), 0)[1], 0);
    assert.strictEqual(addon.scanRecords(chain, 0, chain.length, 1, '0'.repeat(64), 2)[1], 1);
    for (const hostile of [Buffer.alloc(0), Buffer.from('\n\n'), Buffer.from('{"seq":1\n'), Buffer.from('{"seq":99999999999999999999,"ts":"\n'), Buffer.alloc(300, 0x7b)]) {
      assert.strictEqual(addon.scanRecords(hostile, 0, hostile.length, 1, '0'.repeat(64), 0)[1], 0);
    }
    assert.strictEqual(code(() => addon.scanRecords(chain, 0, chain.length + 1, 1, '0'.repeat(64), 0)), 'RangeError');
    assert.strictEqual(code(() => addon.scanRecords(chain, 0, 1, 1, 'short', 0)), 'RangeError');
    scanSigned(round);
    if (round % 10 === 0) await scanFileChecked(round);
    if (round % 100 === 0) await scanInWorker(round);
    assert.strictEqual(code(() => addon.scanRecords(chain, 0, 1, 1, '0'.repeat(64), 0, {})), 'TypeError');
    assert.strictEqual(code(() => addon.scanRecords(chain, 0, 1, 1, '0'.repeat(64), 0, KEYS[0])), 'TypeError');
    assert.strictEqual(code(() => addon.recordScanner('k1')), 'TypeError');
    assert.strictEqual(code(() => addon.recordScanner([['k1', 'not a buffer']])), 'TypeError');
    assert.strictEqual(code(() => addon.recordScanner([7])), 'TypeError');
    assert.strictEqual(code(() => addon.recordScanner()), 'TypeError');
    assert.strictEqual(code(() => addon.closeRecordScanner(KEYS[0])), 'TypeError');

    // The record encoder: every record type, signed with every key length and unsigned, Unicode data.
    for (const [i, type] of [null, 'recovery', 'seal', 'prune', 'checkpoint'].entries()) {
      const data = DATA[(round + i) % DATA.length];
      encodeChecked(round * 5 + i, type, null, data);
      encodeChecked(Number.MAX_SAFE_INTEGER - i, type, (round + i) % KEYS.length, data);
    }
    if (round % 500 === 0) encodeChecked(round, null, 0, JSON.stringify('y'.repeat(3 << 20))); // grows, then frees, the scratch
    if (round % 50 === 0) KEYS.push(addon.hmacKey(SECRETS[round % SECRETS.length])) && KEYS.pop(); // keys made and collected
    assert.strictEqual(code(() => addon.encodeRecord(-1, 't', 'p', null, null, '1', null)), 'RangeError');
    assert.strictEqual(code(() => addon.encodeRecord(1.5, 't', 'p', null, null, '1', null)), 'RangeError');
    assert.strictEqual(code(() => addon.encodeRecord(1, 't', 'p', null, 'k', '1', {})), 'TypeError');
    assert.strictEqual(code(() => addon.encodeRecord(1, 't', 'p', 7, null, '1', null)), 'TypeError');
    assert.strictEqual(code(() => addon.encodeRecord(1, 't', 'p', null, null)), 'TypeError');
    assert.strictEqual(code(() => addon.hmacKey('secret')), 'TypeError');

    // The Merkle fold: trees of up to 70 leaves against RFC 9162's recursive definition, then bad arguments.
    foldChecked(1 + (round % 70));
    const stack = new Int32Array(8 * 54);
    const words = new Int32Array(8);
    assert.strictEqual(code(() => addon.foldLeaf(stack, 0, 1, words, 0, false)), 'RangeError');
    assert.strictEqual(code(() => addon.foldLeaf(stack, 54, 0, words, 0, true)), 'RangeError');
    assert.strictEqual(code(() => addon.foldLeaf(stack, 0, 0, words, 1, false)), 'RangeError');
    assert.strictEqual(code(() => addon.foldLeaf(stack, 0, 2 ** 53, words, 0, false)), 'RangeError');
    assert.strictEqual(code(() => addon.foldLeaf(new Float64Array(8), 0, 0, words, 0, false)), 'TypeError');
    assert.strictEqual(code(() => addon.foldLeaf(stack, 0, 0, new Uint8Array(32), 0, false)), 'TypeError');
    for (const bad of ['', 'ab'.repeat(31), 'ab'.repeat(33), 'x'.repeat(5000), '\u0130'.repeat(64), 'AB'.repeat(32)]) {
      assert.strictEqual(addon.foldLeaf(stack, 0, 0, bad, 0, false), -1);
    }
    // The batch fold of record lines, then its bad arguments.
    linesChecked(round);
    const chainBytes = chain;
    assert.strictEqual(addon.foldRecordLines(stack, 0, chainBytes, 0, chainBytes.length), RECORDS);
    assert.strictEqual(addon.foldRecordLines(stack, 0, chainBytes, 0, 0), 0);
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, chainBytes, 0, chainBytes.length + 1)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, chainBytes, 5, 4)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, chainBytes, -1, 4)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0.5, chainBytes, 0, 4)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 2 ** 53, chainBytes, 0, 4)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 2 ** 53 - 2, chainBytes, 0, chainBytes.length)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(new Int32Array(8 * 10), 2 ** 20, chainBytes, 0, chainBytes.length)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(new Int32Array(0), 0, chainBytes, 0, 0)), 'RangeError');
    assert.strictEqual(code(() => addon.foldRecordLines(new Float64Array(8), 0, chainBytes, 0, 0)), 'TypeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, new Int32Array(4), 0, 0)), 'TypeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, chain.toString('latin1'), 0, 0)), 'TypeError');
    assert.strictEqual(code(() => addon.foldRecordLines(stack, 0, chainBytes, 0)), 'TypeError');

    if (round % 100 === 0) {
      const results = await Promise.allSettled([
        addon.changeFlags(bytes(file), addon.APPEND_ONLY, true, false),
        addon.readAttributes(bytes(file)),
        addon.readAttributes(bytes(link)),
        addon.changeFlags(bytes(path.join(dir, 'missing')), addon.IMMUTABLE, true, false),
      ]);
      assert.deepStrictEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
      assert.strictEqual(results[0].value, undefined);
      await addon.changeFlags(bytes(file), addon.APPEND_ONLY, false, false);
    }
  }
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('exercised every call 2000 times: no finding');
}

main().catch((error) => {
  console.error(error);
  spawnCleanup();
  process.exit(1);
});

// chattr -R exits 1 on the fifo and the socket, which take no flags: the regular file is cleared anyway.
function spawnCleanup() {
  try {
    execFileSync('chattr', ['-R', '-f', '-a', '-i', dir], { stdio: 'ignore' });
  } catch {}
  fs.rmSync(dir, { recursive: true, force: true });
}
