// Finds the head of a log from its end: the last valid record, and what the bytes after it are.
// O(tail) for a log whose end is records; bounded memory whatever the file holds.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

import { GENESIS, type Head, MAX_RECORD_BYTES, type ParsedLine, hashMatches, parseLine } from './format';
import { CRASH_CHECK_BYTES, type NextRecord, isCrashLine } from './junk';

export interface TailState {
  /** The last valid record (or the base given), or null for a new log (or one holding only torn bytes). */
  head: Head | null;
  /** The head's line as parsed (its key id and signature), or null. */
  headLine: ParsedLine | null;
  /** Where the bytes after the head start: the offset right after its newline (0 with no head). */
  headEnd: number;
  /** The file's size when read; the bytes after the head span headEnd..size. */
  size: number;
  /** What those bytes are: nothing, what a crash leaves, or bytes someone else wrote. */
  after: 'none' | 'torn' | 'foreign';
}

export class NotALogError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The window read first: the head of a healthy log is in its last line. */
const FIRST_WINDOW = 64 * 1024;
/** How far back a file that does not start like a log is searched before it is refused. */
const MAX_SEARCH_BYTES = 4 * MAX_RECORD_BYTES + 4096;
const CHUNK_BYTES = 64 * 1024;

/** Reads `length` bytes at `position`, fewer only at the end of the file. */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return buffer.subarray(0, done);
}

function validRecord(line: Buffer): ParsedLine | null {
  const parsed = parseLine(line);
  return parsed !== null && hashMatches(parsed) ? parsed : null;
}

/**
 * Walks the file's line starts backwards from `size`, calling `visit(start, end)` for each complete
 * line (end is its newline's offset) until it returns true. Reads 64 KiB at a time and never holds a
 * line: a file of any size and any content is walked in bounded memory.
 */
function walkLinesBackwards(fd: number, size: number, lowest: number, visit: (start: number, end: number) => boolean): boolean {
  // The last newline of the file ends the last complete line; bytes after it are the unterminated piece.
  let end = -1;
  let position = size;
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  while (position > lowest) {
    const from = Math.max(lowest, position - CHUNK_BYTES);
    const length = position - from;
    const read = readSync(fd, chunk, 0, length, from);
    let at = read;
    for (;;) {
      const newline = at === 0 ? -1 : chunk.lastIndexOf(0x0a, at - 1);
      if (newline === -1) break;
      if (end !== -1 && visit(from + newline + 1, end)) return true;
      end = from + newline;
      at = newline;
    }
    position = from;
  }
  // The first line of the searched range, when the range starts at the file's start.
  return lowest === 0 && end !== -1 && visit(0, end);
}

/** The last valid record at or after `lowest`, with the offset just after its newline. */
function findLastRecord(fd: number, size: number, lowest: number): { line: ParsedLine; end: number } | null {
  let found: { line: ParsedLine; end: number } | null = null;
  walkLinesBackwards(fd, size, lowest, (start, end) => {
    if (end - start > MAX_RECORD_BYTES) return false;
    const line = validRecord(readAt(fd, start, end - start));
    if (line !== null) found = { line, end: end + 1 };
    return found !== null;
  });
  return found;
}

/**
 * The last valid record of one of `types` in the file, with where its line starts, walking back from the
 * end in bounded memory; null when there is none.
 */
export function findLastOfType(fd: number, size: number, types: readonly string[]): { line: ParsedLine; start: number } | null {
  let found: { line: ParsedLine; start: number } | null = null;
  const needles = types.map((type) => Buffer.from(`,"type":"${type}"`));
  walkLinesBackwards(fd, size, 0, (start, end) => {
    if (end - start > MAX_RECORD_BYTES) return false;
    const bytes = readAt(fd, start, end - start);
    // Most lines are data records: look for the type field before parsing.
    if (!needles.some((needle) => bytes.subarray(0, 256).includes(needle))) return false;
    const line = validRecord(bytes);
    if (line !== null && types.includes(line.type)) found = { line, start };
    return found !== null;
  });
  return found;
}

/**
 * The last valid signed record in the last `window` bytes of the file (any key id), or null: what a
 * writer checks its key against when it opens a log.
 */
export function findLastSigned(fd: number, size: number, window = MAX_SEARCH_BYTES): ParsedLine | null {
  let found: ParsedLine | null = null;
  const needle = Buffer.from(',"keyId":"');
  walkLinesBackwards(fd, size, Math.max(0, size - window), (start, end) => {
    if (end - start > MAX_RECORD_BYTES) return false;
    const bytes = readAt(fd, start, end - start);
    if (!bytes.subarray(0, 256).includes(needle)) return false;
    found = validRecord(bytes);
    return found !== null;
  });
  return found;
}

/** Whether the file starts like a log: a valid record within its first lines (after a torn first append). */
function startsLikeLog(fd: number, size: number): boolean {
  const bytes = readAt(fd, 0, Math.min(size, MAX_SEARCH_BYTES));
  let from = 0;
  for (let lines = 0; lines < 3; lines += 1) {
    const newline = bytes.indexOf(0x0a, from);
    if (newline === -1) return false;
    if (validRecord(bytes.subarray(from, newline)) !== null) return true;
    from = newline + 1;
  }
  return false;
}

/** Streams the bytes after the head, line by line, and says whether a crash could have left them all. */
export function classifyAfter(fd: number, from: number, size: number, next: NextRecord): 'none' | 'torn' | 'foreign' {
  if (from >= size) return 'none';
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let start = Buffer.alloc(0); // the current line's first bytes
  let length = 0;
  let lastByte: number | undefined;
  for (let position = from; position < size; ) {
    const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, size - position), position);
    if (read === 0) break;
    let at = 0;
    while (at < read) {
      const newline = chunk.indexOf(0x0a, at);
      const stop = newline === -1 || newline >= read ? read : newline;
      if (start.length < CRASH_CHECK_BYTES && stop > at) {
        start = Buffer.concat([start, chunk.subarray(at, Math.min(stop, at + CRASH_CHECK_BYTES - start.length))]);
      }
      if (stop > at) lastByte = chunk[stop - 1];
      length += stop - at;
      if (stop === read) break;
      if (!isCrashLine(start, lastByte, length, true, next)) return 'foreign';
      start = Buffer.alloc(0);
      length = 0;
      lastByte = undefined;
      at = stop + 1;
    }
    position += read;
  }
  return isCrashLine(start, lastByte, length, false, next) ? 'torn' : 'foreign';
}

/**
 * The head of the log in `fd` and what follows it. A file whose end holds no valid record is refused
 * (NotALogError) unless it starts like a log: then it is a log with bytes someone else appended,
 * searched back as far as it takes. `base` is the record before the file's first (the previous
 * segment's seal); a file with no record of its own has it as head.
 */
export function readTail(fd: number, size: number, base: Head | null = null): TailState {
  if (size === 0) return { head: base, headLine: null, headEnd: 0, size, after: 'none' };
  let found = findLastRecord(fd, size, Math.max(0, size - FIRST_WINDOW));
  if (found === null && size > FIRST_WINDOW) found = findLastRecord(fd, size, Math.max(0, size - MAX_SEARCH_BYTES));
  if (found === null && size > MAX_SEARCH_BYTES && startsLikeLog(fd, size)) found = findLastRecord(fd, size, 0);
  if (found === null) {
    // A file of nothing but crash debris is a new log (or segment) whose first append was torn.
    const after = classifyAfter(fd, 0, size, { seq: (base?.seq ?? 0) + 1, prev: base?.hash ?? GENESIS });
    if (after === 'torn') return { head: base, headLine: null, headEnd: 0, size, after };
    const searched = Math.min(size, MAX_SEARCH_BYTES);
    throw new NotALogError(searched < size ? `no valid record in the last ${searched} bytes, and it does not start with one` : 'it holds no valid record');
  }
  const { line, end } = found;
  const after = classifyAfter(fd, end, size, { seq: line.seq + 1, prev: line.hash });
  return { head: { seq: line.seq, hash: line.hash }, headLine: line, headEnd: end, size, after };
}

/** SHA-256 of `length` bytes at `position`, read 64 KiB at a time, followed by `suffix`. */
export function hashRange(fd: number, position: number, length: number, suffix: Buffer): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let done = 0; done < length; ) {
    const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, length - done), position + done);
    if (read === 0) break;
    hash.update(chunk.subarray(0, read));
    done += read;
  }
  return hash.update(suffix).digest('hex');
}
