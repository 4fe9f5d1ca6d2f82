// Finds the head of a log from its end: the last valid record and any torn bytes after it.
// O(tail): it reads backwards from the end only as far as the last valid record.
import { readSync } from 'node:fs';

import { type Head, MAX_RECORD_BYTES, hashMatches, parseLine } from './format';
import { looksTorn } from './junk';

export interface TailState {
  /** The last valid record, or null for a new log (or one holding only torn bytes). */
  head: Head | null;
  /** Where the bytes after the head start: the offset right after its newline (0 with no head). */
  headEnd: number;
  /** The file's size when read; torn bytes span headEnd..size. */
  size: number;
}

export class NotALogError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

// A crash leaves at most a record and a torn recovery behind; this much is plenty of room for both.
const MAX_SCAN_BYTES = 4 * MAX_RECORD_BYTES + 4096;
const FIRST_WINDOW = 64 * 1024;

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

export function readTail(fd: number, size: number): TailState {
  if (size === 0) return { head: null, headEnd: 0, size };
  let window = Math.min(size, FIRST_WINDOW);
  for (;;) {
    const start = size - window;
    const bytes = readAt(fd, start, window);
    const found = scan(bytes, start);
    if (found !== 'need-more') return { ...found, size };
    if (window === size || window >= MAX_SCAN_BYTES) {
      throw new NotALogError(`no valid record in the last ${window} bytes`);
    }
    window = Math.min(size, window * 4, MAX_SCAN_BYTES);
  }
}

// Walks the window's lines from the end. Lines after the last valid record must look torn; a line
// whose start is not inside the window asks for a bigger one.
function scan(bytes: Buffer, windowStart: number): { head: Head | null; headEnd: number } | 'need-more' {
  let lineEnd = bytes.length; // exclusive; the unterminated last piece first
  let terminated = false;
  for (;;) {
    const newline = lineEnd === 0 ? -1 : bytes.lastIndexOf(0x0a, lineEnd - 1);
    if (newline === -1 && windowStart > 0) return 'need-more';
    const line = bytes.subarray(newline + 1, lineEnd);
    if (terminated) {
      const parsed = parseLine(line);
      if (parsed !== null && hashMatches(parsed)) {
        return { head: { seq: parsed.seq, hash: parsed.hash }, headEnd: windowStart + lineEnd + 1 };
      }
    }
    if (!looksTorn(line)) {
      throw new NotALogError(`the line at byte ${windowStart + newline + 1} is not a record of this format`);
    }
    if (newline === -1) return { head: null, headEnd: 0 }; // the whole file is torn bytes
    lineEnd = newline;
    terminated = true;
  }
}
