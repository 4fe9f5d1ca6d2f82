// The Merkle tree of a log file: its root, checkpoints checked against it, and proofs read from it.
//
// Leaf i is the i-th record of the file (seq i + 1 in an intact log) and its leaf data is the record's
// hash, the 32 bytes of its "hash" field. The tree is computed over the records as they are in the file:
// a line that is not a record (lib/log/format.ts parseLine) is no leaf, and records out of order or with
// a wrong hash still are leaves, in file order. Saying whether a log is intact is verifyLog's job; the
// tree of a damaged log is simply not the tree any checkpoint signed. verifyCheckpoint is the exception:
// it also checks that each of the checkpoint's records is the one its hash names, so that a checkpoint
// kept elsewhere pins every byte of them.
import type { FileHandle } from 'node:fs/promises';

import { loadBinding } from '../binding';
import { AppendOnlyError } from '../errors';
import { GENESIS, MAX_RECORD_BYTES, type ParsedLine, hashMatches, parseLine } from '../log/format';
import { openLog } from '../log/lines';
import { type PathLike, toTarget } from '../paths';
import { checkInteger, checkOptions, invalidArgType } from '../validate';
import { CompactRange, type LeafRange, consistencyRanges, inclusionRanges, sameHash } from './merkle';
import { hexBytesToWords, wordsToBytes } from './sha256';
import { type CheckResult, type ConsistencyProof, type InclusionProof, openForCheck } from './proof';

const CHUNK_BYTES = 1024 * 1024;

/** What a pass over the file reports for each record. */
interface RecordSink {
  /**
   * A record: its hash as 8 words in `words` at 0, its seq, and, for records the fast path did not take,
   * the parsed line. Returns false to stop reading.
   */
  record(words: Int32Array, seq: number, parsed: ParsedLine | null): boolean;
}

// The fixed parts of a plain data record, by position: {"seq":N,"ts":"<24>","prev":"<64>","data":...,"hash":"<64>"}
const SEQ_PREFIX = Buffer.from('{"seq":');
const TS_FIELD = Buffer.from(',"ts":"');
const PREV_FIELD = Buffer.from('","prev":"');
const DATA_FIELD = Buffer.from('","data":');
const HASH_FIELD = Buffer.from(',"hash":"');
const HASH_SUFFIX_BYTES = HASH_FIELD.length + 64 + 2;
const TS_SHAPE = Buffer.from('0000-00-00T00:00:00.000Z');

function matchesAt(view: Buffer, at: number, fixed: Buffer): boolean {
  for (let i = 0; i < fixed.length; i += 1) if (view[at + i] !== fixed[i]) return false;
  return true;
}

const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
// The prev field is only checked to be hex (parseLine's rule), read into words nobody uses.
const PREV_WORDS = new Int32Array(8);

/**
 * The fast path: the seq of a plain data record (no type, no keyId) in view[start, end), reading the hash
 * into `words`; -1 for any other line, which then goes to parseLine. It accepts only lines that parseLine
 * accepts as records with the same seq and hash (the differential test holds the two to that).
 */
export function plainRecordSeq(view: Buffer, start: number, end: number, words: Int32Array): number {
  const length = end - start;
  if (length < 40 + HASH_SUFFIX_BYTES || view[end - 1] !== 0x7d || view[end - 2] !== 0x22) return -1;
  const hashStart = end - HASH_SUFFIX_BYTES;
  if (!matchesAt(view, hashStart, HASH_FIELD) || !hexBytesToWords(view, hashStart + HASH_FIELD.length, words, 0)) return -1;
  if (!matchesAt(view, start, SEQ_PREFIX)) return -1;
  let at = start + SEQ_PREFIX.length;
  const digits = at;
  let seq = 0;
  while (at < end && isDigit(view[at]!) && at - digits < 16) seq = seq * 10 + view[at++]! - 0x30;
  if (at === digits || (at - digits > 1 && view[digits] === 0x30)) return -1;
  if (at + 7 + 24 + 10 + 64 + 9 > hashStart || !matchesAt(view, at, TS_FIELD)) return -1;
  at += TS_FIELD.length;
  for (let i = 0; i < 24; i += 1) {
    const shape = TS_SHAPE[i]!;
    const byte = view[at + i]!;
    if (shape === 0x30 ? !isDigit(byte) : byte !== shape) return -1;
  }
  at += 24;
  if (!matchesAt(view, at, PREV_FIELD)) return -1;
  at += PREV_FIELD.length;
  if (!hexBytesToWords(view, at, PREV_WORDS, 0)) return -1;
  at += 64;
  if (!matchesAt(view, at, DATA_FIELD)) return -1;
  // parseLine also needs data to be non-empty: the data starts after `"data":` and ends at the hash field.
  return at + DATA_FIELD.length < hashStart ? seq : -1;
}

/**
 * Reads the records of an open log in file order, from byte 0, in bounded memory: 1 MiB chunks, the next
 * read while this one is walked, and no line kept past its visit. `fast(view, from, to)` may take a run
 * of whole lines itself first (the native verifier); it returns the bytes it took.
 */
async function readRecords(
  file: FileHandle,
  size: number,
  sink: RecordSink,
  options: { parseAll?: boolean; fast?: (view: Buffer, from: number, to: number) => number } = {},
): Promise<void> {
  const { parseAll = false, fast } = options;
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  const words = new Int32Array(8);
  let current = 0;
  let position = 0;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let skipping = false; // inside a line longer than a record may be
  let reading = file.read(buffers[0]!, 0, CHUNK_BYTES, 0);
  try {
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0 || position >= size) break;
      const view = buffers[current]!.subarray(0, bytesRead);
      current ^= 1;
      reading = file.read(buffers[current]!, 0, CHUNK_BYTES, position + bytesRead);
      let from = 0;
      for (;;) {
        if (fast !== undefined && carryBytes === 0 && !skipping && from < bytesRead) from += fast(view, from, bytesRead);
        const newline = view.indexOf(0x0a, from);
        if (newline === -1) break;
        if (skipping || carryBytes + newline - from > MAX_RECORD_BYTES) {
          // not a record: too long to be one
        } else if (carryBytes === 0) {
          const seq = parseAll ? -1 : plainRecordSeq(view, from, newline, words);
          if (seq >= 0) {
            if (!sink.record(words, seq, null)) return;
          } else if (!slowRecord(view.subarray(from, newline), words, sink)) return;
        } else if (!slowRecord(Buffer.concat([...carry, view.subarray(from, newline)]), words, sink)) return;
        carry = [];
        carryBytes = 0;
        skipping = false;
        from = newline + 1;
      }
      carryBytes += bytesRead - from;
      if (carryBytes > MAX_RECORD_BYTES) {
        skipping = true;
        carry = [];
      } else if (from < bytesRead) carry.push(Buffer.from(view.subarray(from)));
      position += bytesRead;
    }
    // An unterminated last line is torn bytes, never a record.
  } finally {
    await reading.catch(() => undefined);
  }
}

function slowRecord(line: Buffer, words: Int32Array, sink: RecordSink): boolean {
  const parsed = parseLine(line);
  if (parsed === null) return true;
  hexBytesToWords(Buffer.from(parsed.hash, 'latin1'), 0, words, 0);
  return sink.record(words, parsed.seq, parsed);
}

async function withLog<T>(path: PathLike, use: (file: FileHandle, size: number) => Promise<T>): Promise<T> {
  const { text } = toTarget(path);
  const { file, size } = await openLog(text);
  try {
    return await use(file, size);
  } finally {
    await file.close();
  }
}

export interface LogTree {
  /** The number of records in the tree. */
  size: number;
  /** The tree's root, base64 (as in a checkpoint). */
  root: string;
  /** The compact range at that size: what a writer resuming this log keeps. */
  range: CompactRange;
}

/**
 * The tree of the first `size` records of a log (all of them by default): reads only those. Rejects with
 * ERR_LOG_TOO_SHORT when the log holds fewer records than `size`.
 */
export async function treeOfLog(path: PathLike, options: { size?: number } = {}): Promise<LogTree> {
  const given = checkOptions(options, ['size']);
  const size = checkInteger(given.size, 'options.size', 0);
  return withLog(path, async (file, bytes) => {
    const range = new CompactRange();
    if (size !== 0) {
      await readRecords(file, bytes, {
        record(words) {
          range.appendRecordWords(words, 0);
          return range.size !== size;
        },
      });
    }
    if (size !== undefined && range.size < size) throw tooShort(toTarget(path).text, range.size, size);
    return { size: range.size, root: range.root().toString('base64'), range };
  });
}

function tooShort(path: string, records: number, size: number): AppendOnlyError {
  const fix = 'Ask for a size the log has reached, or find out who cut the log';
  return new AppendOnlyError(`ERR_LOG_TOO_SHORT: ${path} holds ${records} records, fewer than the ${size} asked for. ${fix}.`, {
    code: 'ERR_LOG_TOO_SHORT',
    path,
    fix,
  });
}

export type CheckpointFailure = NonNullable<CheckResult['reason']> | 'truncated' | 'record-changed' | 'root-mismatch';

export interface CheckpointReport {
  ok: boolean;
  /** The checkpoint's tree size and base64 root (absent when the note could not be opened). */
  size?: number;
  root?: string;
  reason?: CheckpointFailure;
  /** The first record found changed, for 'record-changed'. */
  seq?: number;
  detail?: string;
}

type Scanner = (view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number) => [number, number, number, string];

function nativeScanner(): Scanner | undefined {
  return (loadBinding().binding as { scanRecords?: Scanner } | null)?.scanRecords;
}

const HASH_WORDS_OFFSET = HASH_SUFFIX_BYTES - HASH_FIELD.length; // from a line's end back to its hash: 66

/**
 * Checks a log against a checkpoint kept elsewhere: the note must verify with `keys`, and the log's first
 * `size` records must be exactly the checkpoint's tree. Each of them must be intact (its bytes hash to its
 * hash field, seq i + 1, prev the hash before), so a cut log, a changed record or a rebuilt chain fails.
 * Lines that are not records (torn bytes a crash left) are not in the tree and not judged here: verifyLog
 * reports them. Resolves to a report; rejects only for bad arguments or a file it cannot read.
 */
export async function verifyCheckpoint(path: PathLike, note: string | Uint8Array, options: { keys: unknown; origin?: string }): Promise<CheckpointReport> {
  const given = checkOptions(options, ['keys', 'origin']);
  if (given.keys === undefined) throw invalidArgType('options.keys', 'a verifier key string or an array of them', undefined);
  const opened = openForCheck(note, given.keys, 'note');
  if ('ok' in opened) return opened;
  const { size, root } = opened;
  const report = { size, root: root.toString('base64') };

  return withLog(path, async (file, bytes) => {
    const range = new CompactRange();
    let prev = GENESIS;
    let failure: CheckpointReport | null = null;
    const fail = (seq: number, detail: string): boolean => {
      failure = { ok: false, ...report, reason: 'record-changed', seq, detail };
      return false;
    };
    const sink: RecordSink = {
      record(words, seq, parsed) {
        // parseAll: every record the native path leaves comes parsed.
        // The native path may have taken the checkpoint's last record: anything after it is not judged.
        if (range.size >= size) return false;
        const line = parsed!;
        const expected = range.size + 1;
        if (seq !== expected) return fail(seq, `record ${expected} is missing: the next record has seq ${seq}`);
        if (!hashMatches(line)) return fail(seq, `record ${seq}'s bytes do not hash to its hash field`);
        if (line.prev !== prev) return fail(seq, `record ${seq}'s prev is not the hash of the record before it`);
        prev = line.hash;
        range.appendRecordWords(words, 0);
        return range.size < size;
      },
    };
    // Plain records are taken by the native verifier when it loads (the same checks as verifyLog's fast
    // path), and only their hash fields are read here; every other line goes through parseLine.
    const scan = nativeScanner();
    const lineWords = new Int32Array(8);
    const fast =
      scan === undefined
        ? undefined
        : (view: Buffer, from: number, to: number): number => {
            if (range.size >= size) return 0;
            const [taken, lines, , last] = scan(view, from, to, range.size + 1, prev, size + 1);
            if (lines === 0) return 0;
            let at = from;
            for (let i = 0; i < lines; i += 1) {
              const newline = view.indexOf(0x0a, at);
              hexBytesToWords(view, newline - HASH_WORDS_OFFSET, lineWords, 0);
              range.appendRecordWords(lineWords, 0);
              at = newline + 1;
            }
            prev = last;
            return taken;
          };
    if (size > 0) await readRecords(file, bytes, sink, fast === undefined ? { parseAll: true } : { parseAll: true, fast });
    if (failure !== null) return failure;
    if (range.size < size) {
      return { ok: false, ...report, reason: 'truncated', detail: `the log holds ${range.size} records, and the checkpoint ${size}` } as CheckpointReport;
    }
    if (!sameHash(range.root(), root)) {
      return { ok: false, ...report, reason: 'root-mismatch', detail: `the log's first ${size} records are not the checkpoint's tree` } as CheckpointReport;
    }
    return { ok: true, ...report };
  });
}

/** Reads the leaves [0, size) once and returns the roots of the given disjoint ranges, plus the record at `want`. */
async function rangeRoots(
  path: PathLike,
  size: number,
  ranges: readonly LeafRange[],
  want: number | null,
): Promise<{ roots: Map<string, Buffer>; wanted: { seq: number; hash: string } | null; records: number }> {
  const ordered = [...ranges].sort((a, b) => a[0] - b[0]);
  const roots = new Map<string, Buffer>();
  let wanted: { seq: number; hash: string } | null = null;
  let index = 0;
  let next = 0; // the next range in `ordered`
  let range: CompactRange | null = null;
  const hash = Buffer.allocUnsafe(32);
  await withLog(path, (file, bytes) =>
    readRecords(file, bytes, {
      record(words, seq) {
        if (index === want) {
          wordsToBytes(words, 0, hash, 0);
          wanted = { seq, hash: hash.toString('hex') };
        }
        const current = ordered[next];
        if (current !== undefined && index >= current[0]) {
          range ??= new CompactRange();
          range.appendRecordWords(words, 0);
          if (index + 1 === current[1]) {
            roots.set(`${current[0]}-${current[1]}`, range.root());
            range = null;
            next += 1;
          }
        }
        index += 1;
        return index < size;
      },
    }),
  );
  return { roots, wanted, records: index };
}

function recordNotFound(path: string, detail: string): AppendOnlyError {
  const fix = 'Check the seq and size, and verify the log with verifyLog()';
  return new AppendOnlyError(`ERR_RECORD_NOT_FOUND: ${detail} in ${path}. ${fix}.`, { code: 'ERR_RECORD_NOT_FOUND', path, fix });
}

/**
 * The inclusion proof of record `seq` in the tree of the log's first `size` records (default: all of
 * them). Reads the first `size` records, no more. Rejects with ERR_LOG_TOO_SHORT when the log is shorter,
 * and ERR_RECORD_NOT_FOUND when the record at that place does not have that seq (a damaged log).
 */
export async function proveInclusion(path: PathLike, seq: number, options: { size?: number } = {}): Promise<InclusionProof & { seq: number; recordHash: string }> {
  const { text } = toTarget(path);
  checkInteger(seq, 'seq', 1);
  if (seq === undefined) throw invalidArgType('seq', 'of type number', seq);
  const given = checkOptions(options, ['size']);
  let size = checkInteger(given.size, 'options.size', 1);
  if (size === undefined) size = (await treeOfLog(path)).size;
  if (seq > size) throw recordNotFound(text, `record ${seq} is not in a tree of ${size} records`);
  const index = seq - 1;
  const ranges = inclusionRanges(index, size);
  const { roots, wanted, records } = await rangeRoots(path, size, ranges, index);
  if (records < size) throw tooShort(text, records, size);
  const found = wanted as { seq: number; hash: string } | null;
  if (found === null || found.seq !== seq) throw recordNotFound(text, `the record at place ${seq} has seq ${found?.seq ?? 'none'}`);
  const hashes = ranges.map(([start, end]) => roots.get(`${start}-${end}`)!.toString('base64'));
  return { seq, index, size, recordHash: found.hash, hashes };
}

/**
 * The consistency proof from the tree of the log's first `oldSize` records to its first `newSize`.
 * Reads the first `newSize` records, no more. Rejects with ERR_LOG_TOO_SHORT when the log is shorter.
 */
export async function proveConsistency(path: PathLike, oldSize: number, newSize: number): Promise<ConsistencyProof> {
  const { text } = toTarget(path);
  checkInteger(oldSize, 'oldSize', 0);
  checkInteger(newSize, 'newSize', 0);
  if (oldSize === undefined) throw invalidArgType('oldSize', 'of type number', oldSize);
  if (newSize === undefined) throw invalidArgType('newSize', 'of type number', newSize);
  if (oldSize > newSize) throw Object.assign(new RangeError(`oldSize (${oldSize}) must not exceed newSize (${newSize})`), { code: 'ERR_OUT_OF_RANGE' });
  const ranges = consistencyRanges(oldSize, newSize);
  if (ranges.length === 0) {
    if (newSize > 0) {
      const { records } = await rangeRoots(path, newSize, [], null);
      if (records < newSize) throw tooShort(text, records, newSize);
    }
    return { oldSize, newSize, hashes: [] };
  }
  const { roots, records } = await rangeRoots(path, newSize, ranges, null);
  if (records < newSize) throw tooShort(text, records, newSize);
  const hashes = ranges.map(([start, end]) => roots.get(`${start}-${end}`)!.toString('base64'));
  return { oldSize, newSize, hashes };
}
