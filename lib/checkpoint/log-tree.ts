// The Merkle tree of a log: its root, checkpoints checked against it, and proofs read from it.
//
// A log is a file or a directory of segment files: a directory's segments are read in chain order as one
// sequence of records. Leaf i is the i-th record (seq i + 1 in an intact log) and its leaf data is the record's
// hash, the 32 bytes of its "hash" field. The tree is computed over the records as they are in the file:
// a line that is not a record (lib/log/format.ts parseLine) is no leaf, and records out of order or with
// a wrong hash still are leaves, in file order. Saying whether a log is intact is verifyLog's job; the
// tree of a damaged log is simply not the tree any checkpoint signed. verifyCheckpoint is the exception:
// it also checks that each of the checkpoint's records is the one its hash names, so that a checkpoint
// kept elsewhere pins every byte of them.
//
// A directory whose first segments were pruned starts at seq P + 1: the tree of the P records that went
// is known only as the compact range its prune record kept (RFC 9162's perfect subtrees of sizes the 1
// bits of P, leftmost first). A subtree of the tree that ends after P can always be had from it (its
// part below P is a tail of that range); one that lies inside the first P leaves only when it starts and
// ends where the range's subtrees do. Roots and consistency proofs from an old size >= P are therefore
// always possible; inclusion proofs of pruned records never are (ERR_RECORD_PRUNED).
import { stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import { loadBinding } from '../binding';
import { AppendOnlyError } from '../errors';
import { GENESIS, MAX_RECORD_BYTES, type ParsedLine, hashMatches, parseLine } from '../log/format';
import { segmentTarget } from '../log/directory';
import { notADirectoryLogError } from '../log/errors';
import { openLog } from '../log/lines';
import { listSegments, segmentFirstSeq } from '../log/segments';
import { storedRange } from '../log/tree';
import { type PathLike, type Target, toTarget } from '../paths';
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

/** What the prune record of a directory log kept of the records it removed: seq 1 to `size`. */
interface PrunedPrefix {
  size: number;
  /** The compact range of those records: subtree roots, leftmost first, 32 bytes each. */
  hashes: Buffer[];
  /** Where each subtree starts, and `size` last: the only places a subtree inside the prefix can start or end. */
  boundaries: number[];
  /** The hash of record `size`: the next record's prev. */
  lastHash: string;
}

/** A log's records in chain order: the file itself, or a directory's segments (after its pruned prefix). */
interface Chain {
  text: string;
  files: Target[];
  pruned: PrunedPrefix | null;
  /** Set when the first records of a directory are gone and no prune record kept their tree. */
  lost: number | null;
}

async function isDirectory(target: Target): Promise<boolean> {
  try {
    return (await stat(target.bytes)).isDirectory();
  } catch {
    return false; // opening it as a file reports the error
  }
}

/**
 * Reads the records of every file of the chain in turn, as one sequence; stops when `sink` returns false.
 * Each file is read up to its size when opened.
 */
async function readChain(files: readonly Target[], sink: RecordSink, options: Parameters<typeof readRecords>[3] = {}): Promise<void> {
  let stopped = false;
  const watched: RecordSink = {
    record(words, seq, parsed) {
      if (sink.record(words, seq, parsed)) return true;
      stopped = true;
      return false;
    },
  };
  for (const target of files) {
    const { file, size } = await openLog(target.bytes);
    try {
      await readRecords(file, size, watched, options);
    } finally {
      await file.close();
    }
    if (stopped) return;
  }
}

/** The prune record that kept the range of records 1 to `size`, read from the segments left, or null. */
async function findPrunedPrefix(files: readonly Target[], size: number): Promise<PrunedPrefix | null> {
  let found: PrunedPrefix | null = null;
  await readChain(files, {
    record(_words, _seq, parsed) {
      if (parsed === null || parsed.type !== 'prune' || !hashMatches(parsed)) return true;
      const stored = storedRange(parsed.dataJson);
      if (stored === null || stored.size !== size) return true;
      let lastHash: unknown;
      try {
        const segments = (JSON.parse(parsed.dataJson) as { segments?: { lastSeq?: unknown; lastHash?: unknown }[] }).segments;
        lastHash = Array.isArray(segments) ? segments.find((segment) => segment?.lastSeq === size)?.lastHash : undefined;
      } catch {
        lastHash = undefined;
      }
      if (typeof lastHash !== 'string' || !/^[0-9a-f]{64}$/.test(lastHash)) return true;
      let hashes: Buffer[];
      try {
        hashes = CompactRange.from(stored.size, stored.hashes).hashes();
      } catch {
        return true;
      }
      found = { size, hashes, boundaries: rangeBoundaries(size), lastHash };
      return false;
    },
  });
  return found;
}

async function openChain(path: PathLike): Promise<Chain> {
  const target = toTarget(path);
  if (!(await isDirectory(target))) return { text: target.text, files: [{ bytes: target.text, text: target.text }], pruned: null, lost: null };
  const names = listSegments(target.bytes);
  if (names.length === 0) throw notADirectoryLogError(target.text);
  const files = names.map((name) => segmentTarget(target, name));
  const firstSeq = segmentFirstSeq(names[0]!) ?? 1;
  if (firstSeq <= 1) return { text: target.text, files, pruned: null, lost: null };
  const pruned = await findPrunedPrefix(files, firstSeq - 1);
  return { text: target.text, files, pruned, lost: pruned === null ? firstSeq - 1 : null };
}

/** The compact range of leaves [start, end) when end <= the pruned size, or null when the prune record's range does not hold it. */
function prunedRange(pruned: PrunedPrefix, start: number, end: number): CompactRange | null {
  const from = pruned.boundaries.indexOf(start);
  const to = pruned.boundaries.indexOf(end);
  if (from === -1 || to === -1 || to < from) return null;
  return CompactRange.from(end - start, pruned.hashes.slice(from, to));
}

/** Where the subtrees of a compact range of `size` leaves start, and `size` last. */
function rangeBoundaries(size: number): number[] {
  const boundaries = [0];
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2) {
    if (Math.floor(size / bit) % 2 === 1) boundaries.push(boundaries[boundaries.length - 1]! + bit);
  }
  return boundaries;
}

/**
 * For tests: the compact range of leaves [start, end) (end <= range.size) that a stored compact range
 * gives, or null when it cannot.
 * @internal
 */
export function subtreeOfStoredRange(range: CompactRange, start: number, end: number): CompactRange | null {
  return prunedRange({ size: range.size, hashes: range.hashes(), boundaries: rangeBoundaries(range.size), lastHash: '' }, start, end);
}

function recordPruned(path: string, detail: string): AppendOnlyError {
  const fix = 'Ask for a record, size or proof after the pruned segments, or keep proofs made before pruning';
  return new AppendOnlyError(`ERR_RECORD_PRUNED: ${detail} in ${path}. ${fix}.`, { code: 'ERR_RECORD_PRUNED', path, fix });
}

function lostPrefix(chain: Chain): AppendOnlyError {
  return recordPruned(chain.text, `the records before seq ${chain.lost! + 1} are gone and no prune record kept their tree`);
}

/** Throws for a directory whose first records are gone with nothing kept of them. */
function usable(chain: Chain): Chain {
  if (chain.lost !== null) throw lostPrefix(chain);
  return chain;
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
 * ERR_LOG_TOO_SHORT when the log holds fewer records than `size`, and with ERR_RECORD_PRUNED for a size
 * below a directory's pruned size that its prune record's range does not hold.
 */
export async function treeOfLog(path: PathLike, options: { size?: number } = {}): Promise<LogTree> {
  const given = checkOptions(options, ['size']);
  const size = checkInteger(given.size, 'options.size', 0);
  const chain = usable(await openChain(path));
  const pruned = chain.pruned;
  if (pruned !== null && size !== undefined && size <= pruned.size) {
    const range = prunedRange(pruned, 0, size);
    if (range === null) throw recordPruned(chain.text, `the tree of ${size} records is not kept: records 1 to ${pruned.size} were pruned, and their prune record kept only the tree's subtrees`);
    return { size, root: range.root().toString('base64'), range };
  }
  const range = pruned === null ? new CompactRange() : CompactRange.from(pruned.size, pruned.hashes);
  if (size !== 0) {
    await readChain(chain.files, {
      record(words) {
        range.appendRecordWords(words, 0);
        return range.size !== size;
      },
    });
  }
  if (size !== undefined && range.size < size) throw tooShort(chain.text, range.size, size);
  return { size: range.size, root: range.root().toString('base64'), range };
}

function tooShort(path: string, records: number, size: number): AppendOnlyError {
  const fix = 'Ask for a size the log has reached, or find out who cut the log';
  return new AppendOnlyError(`ERR_LOG_TOO_SHORT: ${path} holds ${records} records, fewer than the ${size} asked for. ${fix}.`, {
    code: 'ERR_LOG_TOO_SHORT',
    path,
    fix,
  });
}

export type CheckpointFailure = NonNullable<CheckResult['reason']> | 'truncated' | 'record-changed' | 'root-mismatch' | 'pruned';

export interface CheckpointReport {
  ok: boolean;
  /** The checkpoint's tree size and base64 root (absent when the note could not be opened). */
  size?: number;
  root?: string;
  reason?: CheckpointFailure;
  /** The first record found changed, for 'record-changed'. */
  seq?: number;
  detail?: string;
  /**
   * For a directory log whose first segments were pruned: the number of records that went. Their part
   * of the tree is taken from the prune record's compact range; only the records after them are read.
   */
  prunedSize?: number;
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
 * reports them. In a directory log whose first segments were pruned, the pruned records' part of the tree
 * is the prune record's compact range (the report's `prunedSize`) and the first record left must follow
 * the last one pruned; a checkpoint of no more records than were pruned can be checked only when that
 * range holds its tree ('pruned' otherwise). Resolves to a report; rejects only for bad arguments or a
 * file it cannot read.
 */
export async function verifyCheckpoint(path: PathLike, note: string | Uint8Array, options: { keys: unknown; origin?: string }): Promise<CheckpointReport> {
  const given = checkOptions(options, ['keys', 'origin']);
  if (given.keys === undefined) throw invalidArgType('options.keys', 'a verifier key string or an array of them', undefined);
  const opened = openForCheck(note, given.keys, 'note');
  if ('ok' in opened) return opened;
  const { size, root } = opened;
  const chain = await openChain(path);
  if (chain.lost !== null) {
    const detail = `the records before seq ${chain.lost + 1} are gone and no prune record kept their tree`;
    return { ok: false, size, root: root.toString('base64'), reason: 'truncated', detail };
  }
  const pruned = chain.pruned;
  const report = { size, root: root.toString('base64'), ...(pruned !== null ? { prunedSize: pruned.size } : {}) };
  if (pruned !== null && size <= pruned.size) {
    // None of the checkpoint's records is left: only its root can be compared with what the prune record kept.
    const kept = prunedRange(pruned, 0, size);
    if (kept === null) {
      return { ok: false, ...report, reason: 'pruned', detail: `records 1 to ${pruned.size} were pruned, and their prune record does not hold the tree of ${size}` };
    }
    if (!sameHash(kept.root(), root)) {
      return { ok: false, ...report, reason: 'root-mismatch', detail: `the tree the prune record kept of the first ${size} records is not the checkpoint's tree` };
    }
    return { ok: true, ...report };
  }

  {
    const range = pruned === null ? new CompactRange() : CompactRange.from(pruned.size, pruned.hashes);
    let prev = pruned === null ? GENESIS : pruned.lastHash;
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
    if (size > 0) await readChain(chain.files, sink, fast === undefined ? { parseAll: true } : { parseAll: true, fast });
    if (failure !== null) return failure;
    if (range.size < size) {
      return { ok: false, ...report, reason: 'truncated', detail: `the log holds ${range.size} records, and the checkpoint ${size}` } as CheckpointReport;
    }
    if (!sameHash(range.root(), root)) {
      return { ok: false, ...report, reason: 'root-mismatch', detail: `the log's first ${size} records are not the checkpoint's tree` } as CheckpointReport;
    }
    return { ok: true, ...report };
  }
}

/**
 * Reads the leaves [0, size) once and returns the roots of the given disjoint ranges, plus the record at
 * `want`. In a pruned directory, the leaves below the pruned size come from the prune record's range:
 * a range it cannot give rejects with ERR_RECORD_PRUNED.
 */
async function rangeRoots(
  chain: Chain,
  size: number,
  ranges: readonly LeafRange[],
  want: number | null,
): Promise<{ roots: Map<string, Buffer>; wanted: { seq: number; hash: string } | null; records: number }> {
  const ordered = [...ranges].sort((a, b) => a[0] - b[0]);
  const roots = new Map<string, Buffer>();
  let wanted: { seq: number; hash: string } | null = null;
  let next = 0; // the next range in `ordered`
  let range: CompactRange | null = null;
  const pruned = chain.pruned;
  const prunedSize = pruned?.size ?? 0;
  // The ranges that start in the pruned prefix: whole inside it, or the one that runs past it.
  while (pruned !== null && next < ordered.length && ordered[next]![0] < prunedSize) {
    const [start, end] = ordered[next]!;
    const part = prunedRange(pruned, start, Math.min(end, prunedSize));
    if (part === null) {
      throw recordPruned(
        chain.text,
        `the subtree of records ${start + 1} to ${end} is not kept: records 1 to ${prunedSize} were pruned, and their prune record kept only the subtrees of its compact range`,
      );
    }
    if (end > prunedSize) {
      range = part;
      break;
    }
    roots.set(`${start}-${end}`, part.root());
    next += 1;
  }
  let index = prunedSize;
  const hash = Buffer.allocUnsafe(32);
  if (index < size) {
    await readChain(chain.files, {
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
    });
  }
  return { roots, wanted, records: index };
}

function recordNotFound(path: string, detail: string): AppendOnlyError {
  const fix = 'Check the seq and size, and verify the log with verifyLog()';
  return new AppendOnlyError(`ERR_RECORD_NOT_FOUND: ${detail} in ${path}. ${fix}.`, { code: 'ERR_RECORD_NOT_FOUND', path, fix });
}

/**
 * The inclusion proof of record `seq` in the tree of the log's first `size` records (default: all of
 * them). Reads the first `size` records, no more. Rejects with ERR_LOG_TOO_SHORT when the log is shorter,
 * ERR_RECORD_NOT_FOUND when the record at that place does not have that seq (a damaged log), and
 * ERR_RECORD_PRUNED when the record's segment was pruned from a directory log.
 */
export async function proveInclusion(path: PathLike, seq: number, options: { size?: number } = {}): Promise<InclusionProof & { seq: number; recordHash: string }> {
  const { text } = toTarget(path);
  checkInteger(seq, 'seq', 1);
  if (seq === undefined) throw invalidArgType('seq', 'of type number', seq);
  const given = checkOptions(options, ['size']);
  let size = checkInteger(given.size, 'options.size', 1);
  const chain = usable(await openChain(path));
  if (size === undefined) size = (await rangeRoots(chain, Number.POSITIVE_INFINITY, [], null)).records;
  if (seq > size) throw recordNotFound(text, `record ${seq} is not in a tree of ${size} records`);
  const prunedSize = chain.pruned?.size ?? 0;
  if (seq <= prunedSize) throw recordPruned(text, `record ${seq} was pruned (records 1 to ${prunedSize} are gone), so no inclusion proof of it can be made`);
  const index = seq - 1;
  const ranges = inclusionRanges(index, size);
  const { roots, wanted, records } = await rangeRoots(chain, size, ranges, index);
  if (records < size) throw tooShort(text, records, size);
  const found = wanted as { seq: number; hash: string } | null;
  if (found === null || found.seq !== seq) throw recordNotFound(text, `the record at place ${seq} has seq ${found?.seq ?? 'none'}`);
  const hashes = ranges.map(([start, end]) => roots.get(`${start}-${end}`)!.toString('base64'));
  return { seq, index, size, recordHash: found.hash, hashes };
}

/**
 * The consistency proof from the tree of the log's first `oldSize` records to its first `newSize`.
 * Reads the first `newSize` records, no more. Rejects with ERR_LOG_TOO_SHORT when the log is shorter, and
 * with ERR_RECORD_PRUNED when the proof needs a subtree of pruned records that the prune record did not
 * keep (never when oldSize is at least the pruned size).
 */
export async function proveConsistency(path: PathLike, oldSize: number, newSize: number): Promise<ConsistencyProof> {
  const { text } = toTarget(path);
  checkInteger(oldSize, 'oldSize', 0);
  checkInteger(newSize, 'newSize', 0);
  if (oldSize === undefined) throw invalidArgType('oldSize', 'of type number', oldSize);
  if (newSize === undefined) throw invalidArgType('newSize', 'of type number', newSize);
  if (oldSize > newSize) throw Object.assign(new RangeError(`oldSize (${oldSize}) must not exceed newSize (${newSize})`), { code: 'ERR_OUT_OF_RANGE' });
  const ranges = consistencyRanges(oldSize, newSize);
  const chain = usable(await openChain(path));
  if (ranges.length === 0) {
    if (newSize > 0) {
      const { records } = await rangeRoots(chain, newSize, [], null);
      if (records < newSize) throw tooShort(text, records, newSize);
    }
    return { oldSize, newSize, hashes: [] };
  }
  const { roots, records } = await rangeRoots(chain, newSize, ranges, null);
  if (records < newSize) throw tooShort(text, records, newSize);
  const hashes = ranges.map(([start, end]) => roots.get(`${start}-${end}`)!.toString('base64'));
  return { oldSize, newSize, hashes };
}
