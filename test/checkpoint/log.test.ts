// Checkpoints and proofs of real log files: signed, checked, cut, changed and rebuilt.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpointBody, openCheckpoint, parseCheckpointBody, signCheckpoint } from '../../lib/checkpoint/checkpoint';
import { plainRecordSeq, proveConsistency, proveInclusion, treeOfLog, verifyCheckpoint } from '../../lib/checkpoint/log-tree';
import { CompactRange, EMPTY_ROOT, leafHash, rootFromLeaves } from '../../lib/checkpoint/merkle';
import { generateCheckpointKey, signNote } from '../../lib/checkpoint/note';
import { checkConsistency, checkInclusion, formatProof, parseProof } from '../../lib/checkpoint/proof';
import { GENESIS, encodeRecord, parseLine } from '../../lib/log/format';
import { verifyLog } from '../../lib/log/verify';
import { readLines, useScratch, writeLines, writeLog } from '../log/helpers';
import { codeOf } from './helpers';

const scratch = useScratch();
const KEY = generateCheckpointKey('audit.example/log');
const c2sp = JSON.parse(readFileSync(join(__dirname, '..', 'vectors', 'c2sp', 'signed-note.json'), 'utf8')) as {
  checkpoint: { note: string; origin: string; size: number; root: string };
  proof: { head: string; index: number; hashes: number };
};


const recordHashes = (path: string): string[] =>
  readLines(path)
    .map((line) => parseLine(Buffer.from(line.replace(/\n$/, ''))))
    .filter((parsed) => parsed !== null)
    .map((parsed) => parsed!.hash);

async function checkpointOf(path: string, size?: number): Promise<string> {
  const tree = await treeOfLog(path, size === undefined ? {} : { size });
  return signCheckpoint({ size: tree.size, root: tree.root }, KEY.signer);
}

describe('checkpoint bodies (c2sp.org/tlog-checkpoint)', () => {
  it('the spec example parses', () => {
    const text = c2sp.checkpoint.note.slice(0, c2sp.checkpoint.note.lastIndexOf('\n\n') + 1);
    const parsed = parseCheckpointBody(text);
    expect(parsed).toMatchObject({ origin: c2sp.checkpoint.origin, size: c2sp.checkpoint.size, extensions: [] });
    expect(parsed.root.toString('base64')).toBe(c2sp.checkpoint.root);
    expect(formatCheckpointBody({ ...parsed })).toBe(text);
  });

  it('the origin defaults to the key name; extension lines round-trip', () => {
    const note = signCheckpoint({ size: 0, root: EMPTY_ROOT, extensions: ['ext one'] }, KEY.signer);
    expect(note.startsWith(`audit.example/log\n0\n${EMPTY_ROOT.toString('base64')}\next one\n\n\u2014 audit.example/log `)).toBe(true);
    expect(openCheckpoint(note, KEY.verifier)).toMatchObject({ origin: 'audit.example/log', size: 0, extensions: ['ext one'] });
    expect(codeOf(() => openCheckpoint(note, KEY.verifier, { origin: 'other' }))).toBe('ERR_INVALID_CHECKPOINT');
  });

  it('refuses leading zeros, a short or non-canonical root, an empty origin or extension, fewer than 3 lines', () => {
    const root = EMPTY_ROOT.toString('base64');
    const bad = [
      `o\n01\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n1\n${root.slice(0, -2)}=\n`,
      `o\n1\n${root.slice(0, -2)}V=\n`, // unused bits set: not the canonical encoding
      `\n1\n${root}\n`,
      `o\n1\n${root}\n\n`,
      `o\n1\n`,
      `o\n1\n${root}`,
      `o\n99999999999999999\n${root}\n`,
    ];
    for (const text of bad) expect(codeOf(() => parseCheckpointBody(text))).toBe('ERR_INVALID_CHECKPOINT');
    const note = signNoteOf(`o\n01\n${root}\n`);
    expect(codeOf(() => openCheckpoint(note, KEY.verifier))).toBe('ERR_INVALID_CHECKPOINT');
  });
});

function signNoteOf(text: string): string {
  // A note whose body is not a checkpoint, signed properly: only the body rules refuse it.
  return signNote(text, KEY.signer);
}

describe('tlog-proof text (c2sp.org/tlog-proof@v1)', () => {
  it('the spec example parses: extra, index, five hashes, the checkpoint verbatim', () => {
    const parsed = parseProof(c2sp.proof.head);
    expect(parsed.index).toBe(c2sp.proof.index);
    expect(parsed.hashes).toHaveLength(c2sp.proof.hashes);
    expect(parsed.extra?.toString('latin1').startsWith('age-v1.2.1-darwin-arm64.tar.gz')).toBe(true);
    expect(parsed.checkpoint.startsWith('example.com/fancylog\n109482\n')).toBe(true);
  });

  it('round-trips, with and without extra data', () => {
    const proof = { index: 3, hashes: [EMPTY_ROOT.toString('base64'), leafHash(EMPTY_ROOT).toString('base64')] };
    const note = signCheckpoint({ size: 5, root: EMPTY_ROOT }, KEY.signer);
    for (const options of [{}, { extra: Buffer.from('context') }]) {
      const text = formatProof(proof, note, options);
      expect(text.startsWith('c2sp.org/tlog-proof@v1\n')).toBe(true);
      const parsed = parseProof(text);
      expect(parsed).toMatchObject({ index: 3, hashes: proof.hashes, checkpoint: note });
      expect(parsed.extra).toEqual('extra' in options ? Buffer.from('context') : null);
    }
  });

  it('refuses a wrong header, index, hash or a missing checkpoint', () => {
    const note = signCheckpoint({ size: 5, root: EMPTY_ROOT }, KEY.signer);
    const hash = EMPTY_ROOT.toString('base64');
    for (const text of [
      `c2sp.org/tlog-proof@v2\nindex 0\n\n${note}`,
      `c2sp.org/tlog-proof@v1\nindex 01\n\n${note}`,
      `c2sp.org/tlog-proof@v1\nindex 0\n${hash.slice(4)}\n\n${note}`,
      `c2sp.org/tlog-proof@v1\nindex 0\n${hash}\n\n`,
      `c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\n${note}`,
    ]) {
      expect(codeOf(() => parseProof(text))).toBe('ERR_INVALID_PROOF');
    }
  });
});

describe('the tree of a log file', () => {
  it('an empty log is the empty tree; size 1 is the leaf of the one record', async () => {
    const empty = scratch.path('empty.log');
    writeLines(empty, []);
    expect(await treeOfLog(empty)).toMatchObject({ size: 0, root: EMPTY_ROOT.toString('base64') });
    const one = scratch.path('one.log');
    await writeLog(one, 1);
    const [hash] = recordHashes(one);
    expect((await treeOfLog(one)).root).toBe(leafHash(Buffer.from(hash!, 'hex')).toString('base64'));
  });

  it('is the RFC 6962 tree over the record hashes, at every size, and ERR_LOG_TOO_SHORT past the end', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 21);
    const leaves = recordHashes(path).map((hash) => leafHash(Buffer.from(hash, 'hex')));
    for (let size = 0; size <= 21; size += 1) {
      const tree = await treeOfLog(path, { size });
      expect(tree.root).toBe(rootFromLeaves(leaves.slice(0, size)).toString('base64'));
      expect(tree.range.size).toBe(size);
    }
    await expect(treeOfLog(path, { size: 22 })).rejects.toMatchObject({ code: 'ERR_LOG_TOO_SHORT' });
    await expect(treeOfLog(path, { sise: 2 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('lines that are not records are no leaves; the range a writer would keep matches', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 6);
    const clean = await treeOfLog(path);
    writeLines(path, [...lines.slice(0, 3), 'torn bytes\n', ...lines.slice(3), '{"seq":7,"unterminated']);
    const tree = await treeOfLog(path);
    expect(tree.root).toBe(clean.root);
    const range = new CompactRange();
    for (const hash of recordHashes(path)) range.appendRecordHash(hash);
    expect(tree.range.toJSON()).toEqual(range.toJSON());
  });

  it('signed records (keyId, sig) and recovery records are leaves like any other', async () => {
    const path = scratch.path('signed.log');
    await writeLog(path, 5, { id: 'k1', secret: 'first secret, 32 bytes long ....' });
    const leaves = recordHashes(path).map((hash) => leafHash(Buffer.from(hash, 'hex')));
    expect(leaves).toHaveLength(5);
    expect((await treeOfLog(path)).root).toBe(rootFromLeaves(leaves).toString('base64'));
    const vectors = join(__dirname, '..', 'vectors', 'recovered.jsonl');
    const all = readFileSync(vectors, 'utf8').split('\n').filter((line) => parseLine(Buffer.from(line)) !== null);
    const tree = await treeOfLog(vectors);
    expect(tree.size).toBe(all.length);
  });
});

describe('the fast record path is a subset of parseLine', () => {
  it('on random damage to real records: plain data records take the fast path, with parseLine\'s seq and hash; nothing else does', async () => {
    const path = scratch.path('audit.log');
    const lines = (await writeLog(path, 4, { id: 'k1', secret: 'first secret, 32 bytes long ....' })).map((line) => line.replace(/\n$/, ''));
    const plain = encodeRecord({ seq: 12, ts: '2026-01-02T03:04:05.678Z', prev: GENESIS, type: 'data', keyId: null, dataJson: '{"a":1}' }, null).line.replace(/\n$/, '');
    const recovery = encodeRecord({ seq: 3, ts: '2026-01-02T03:04:05.678Z', prev: GENESIS, type: 'recovery', keyId: null, dataJson: '{}' }, null).line.replace(/\n$/, '');
    const samples = [...lines, plain, recovery];
    const words = new Int32Array(8);
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...'0123456789abcdefABCDEF{}",:-.TZ x\\'.split(''))), { maxLength: 3 }),
        fc.boolean(),
        (sample, edits, cut) => {
          let line = sample;
          for (const [at, char] of edits) {
            const i = at % line.length;
            line = line.slice(0, i) + char + line.slice(i + 1);
          }
          if (cut && edits.length > 0) line = line.slice(0, line.length - (edits[0]![0] % 5));
          const bytes = Buffer.from(line, 'latin1');
          const seq = plainRecordSeq(bytes, 0, bytes.length, words);
          const parsed = parseLine(bytes);
          if (seq >= 0) {
            expect(parsed).not.toBeNull();
            expect(parsed!.seq).toBe(seq);
            expect(parsed!.type).toBe('data');
            expect(parsed!.keyId).toBeNull();
            const hash = Buffer.alloc(32);
            for (let i = 0; i < 8; i += 1) hash.writeInt32BE(words[i]!, 4 * i);
            expect(hash.toString('hex')).toBe(parsed!.hash);
          } else if (parsed !== null) {
            // only records the fast path does not handle are left to parseLine: a type or a keyId
            expect(parsed.type === 'recovery' || parsed.keyId !== null).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // and the plain records themselves take the fast path
    const bytes = Buffer.from(plain);
    expect(plainRecordSeq(bytes, 0, bytes.length, words)).toBe(12);
  });
});

describe('verifyCheckpoint', () => {
  it('accepts the log it was made from, and the log grown since', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 12);
    const note = await checkpointOf(path, 9);
    const tree9 = await treeOfLog(path, { size: 9 });
    expect(await verifyCheckpoint(path, note, { keys: [KEY.verifier] })).toEqual({ ok: true, size: 9, root: tree9.root });
    expect(await verifyCheckpoint(path, await checkpointOf(path), { keys: KEY.verifier })).toMatchObject({ ok: true, size: 12 });
  });

  it('the empty checkpoint holds for any log, size 1 for a log whose first record is unchanged', async () => {
    const path = scratch.path('audit.log');
    writeLines(path, []);
    const empty = await checkpointOf(path);
    await writeLog(path, 3);
    expect(await verifyCheckpoint(path, empty, { keys: KEY.verifier })).toMatchObject({ ok: true, size: 0 });
    expect(await verifyCheckpoint(path, await checkpointOf(path, 1), { keys: KEY.verifier })).toMatchObject({ ok: true, size: 1 });
  });

  it('a cut log fails (truncated)', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 8);
    const note = await checkpointOf(path);
    writeLines(path, lines.slice(0, 7));
    expect(await verifyCheckpoint(path, note, { keys: KEY.verifier })).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('any changed byte in the first size records fails; after them it does not matter', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 6);
    const note = await checkpointOf(path, 4);
    for (let i = 0; i < 6; i += 1) {
      const changed = [...lines];
      changed[i] = changed[i]!.replace('"read"', '"wrote"');
      writeLines(path, changed);
      const report = await verifyCheckpoint(path, note, { keys: KEY.verifier });
      expect({ i, ok: report.ok }).toEqual({ i, ok: i >= 4 });
      if (i < 4) expect(report).toMatchObject({ reason: 'record-changed', seq: i + 1 });
    }
  });

  it('a checkpoint kept before a chain rebuild fails on the rebuilt log, which verifyLog alone accepts', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 5);
    const note = await checkpointOf(path);
    // What someone who can rewrite the file does: alter a record and recompute every hash after it.
    let prev = GENESIS;
    const rebuilt = readLines(path).map((line) => {
      const record = JSON.parse(line) as { seq: number; ts: string; data: Record<string, unknown> };
      if (record.seq === 2) record.data.actor = 'mallory';
      const { line: forged, hash } = encodeRecord({ seq: record.seq, ts: record.ts, prev, type: 'data', keyId: null, dataJson: JSON.stringify(record.data) }, null);
      prev = hash;
      return forged;
    });
    writeLines(path, rebuilt);
    expect((await verifyLog(path)).status).toBe('intact');
    expect(await verifyCheckpoint(path, note, { keys: KEY.verifier })).toMatchObject({ ok: false, reason: 'root-mismatch' });
  });

  it('a note that does not verify is a failed check, not an exception; bad options are TypeErrors', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2);
    const note = await checkpointOf(path);
    const other = generateCheckpointKey('audit.example/log');
    expect(await verifyCheckpoint(path, note, { keys: other.verifier })).toMatchObject({ ok: false, reason: 'unverified-note' });
    expect(await verifyCheckpoint(path, note.replace('\n2\n', '\n1\n'), { keys: KEY.verifier })).toMatchObject({ ok: false, reason: 'invalid-signature' });
    expect(await verifyCheckpoint(path, note.replace(/\n/g, '\r\n'), { keys: KEY.verifier })).toMatchObject({ ok: false, reason: 'invalid-note' });
    await expect(verifyCheckpoint(path, note, {} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(verifyCheckpoint(path, note, { keys: KEY.verifier, key: 1 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(verifyCheckpoint(scratch.path('missing.log'), note, { keys: KEY.verifier })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('proofs from a log', () => {
  it('inclusion at every seq of logs of 1 to 9 records verifies against the signed checkpoint, as an object and as tlog-proof text', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 9);
    const hashes = recordHashes(path);
    for (let size = 1; size <= 9; size += 1) {
      writeLines(path, lines.slice(0, size));
      const note = await checkpointOf(path);
      for (let seq = 1; seq <= size; seq += 1) {
        const proof = await proveInclusion(path, seq);
        expect(proof).toMatchObject({ seq, index: seq - 1, size, recordHash: hashes[seq - 1] });
        expect(checkInclusion(proof.recordHash, proof, note, KEY.verifier)).toMatchObject({ ok: true, size });
        const text = formatProof(proof, note);
        expect(checkInclusion(hashes[seq - 1]!, text, null, [KEY.verifier])).toMatchObject({ ok: true });
        const wrong = hashes[seq % size]!;
        if (size > 1) expect(checkInclusion(wrong, text, null, KEY.verifier)).toMatchObject({ ok: false, reason: 'invalid-proof' });
      }
    }
  });

  it('inclusion in an older tree size reads only that far', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 10);
    const note = await checkpointOf(path, 6);
    writeLines(path, [...lines.slice(0, 6), 'not a record, and never read\n', ...lines.slice(6)]);
    const proof = await proveInclusion(path, 3, { size: 6 });
    expect(checkInclusion(proof.recordHash, proof, note, KEY.verifier)).toMatchObject({ ok: true, size: 6 });
    expect(checkInclusion(proof.recordHash, { ...proof, size: 7 }, note, KEY.verifier)).toMatchObject({ ok: false, reason: 'size-mismatch' });
    await expect(proveInclusion(path, 7, { size: 6 })).rejects.toMatchObject({ code: 'ERR_RECORD_NOT_FOUND' });
    await expect(proveInclusion(path, 1, { size: 11 })).rejects.toMatchObject({ code: 'ERR_LOG_TOO_SHORT' });
    await expect(proveInclusion(path, 0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('consistency between every pair of sizes up to 9 verifies between the two signed checkpoints', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 9);
    const notes: string[] = [];
    for (let size = 0; size <= 9; size += 1) notes.push(await checkpointOf(path, size));
    for (let newSize = 0; newSize <= 9; newSize += 1) {
      for (let oldSize = 0; oldSize <= newSize; oldSize += 1) {
        const proof = await proveConsistency(path, oldSize, newSize);
        expect({ oldSize, newSize, result: checkConsistency(notes[oldSize]!, notes[newSize]!, proof, KEY.verifier).ok }).toEqual({ oldSize, newSize, result: true });
        if (oldSize > 0 && oldSize < newSize) {
          // the old checkpoint of another log does not extend to this one
          const forged = signCheckpoint({ size: oldSize, root: leafHash(Buffer.alloc(32)) }, KEY.signer);
          expect(checkConsistency(forged, notes[newSize]!, proof, KEY.verifier)).toMatchObject({ ok: false, reason: 'invalid-proof' });
        }
      }
    }
    expect(checkConsistency(notes[5]!, notes[3]!, [], KEY.verifier)).toMatchObject({ ok: false, reason: 'size-mismatch' });
    await expect(proveConsistency(path, 5, 3)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });

  it('checks refuse notes signed by unknown keys, and notes whose known signature fails', () => {
    const note = signCheckpoint({ size: 1, root: leafHash(Buffer.alloc(32)) }, KEY.signer);
    const hash = Buffer.alloc(32).toString('hex');
    const proof = { index: 0, size: 1, hashes: [] };
    expect(checkInclusion(hash, proof, note, KEY.verifier)).toMatchObject({ ok: true });
    expect(checkInclusion(hash, proof, note, generateCheckpointKey('x').verifier)).toMatchObject({ ok: false, reason: 'unverified-note' });
    expect(checkInclusion(hash, proof, note.replace('\n1\n', '\n2\n'), KEY.verifier)).toMatchObject({ ok: false, reason: 'invalid-signature' });
    const witness = generateCheckpointKey('witness.example');
    const cosigned = signCheckpoint({ origin: 'audit.example/log', size: 1, root: leafHash(Buffer.alloc(32)) }, [KEY.signer, witness.signer]);
    expect(checkInclusion(hash, proof, cosigned, KEY.verifier)).toMatchObject({ ok: true });
    expect(checkInclusion(hash, formatProof(proof, cosigned), note, KEY.verifier)).toMatchObject({ ok: false, reason: 'checkpoint-mismatch' });
  });
});
