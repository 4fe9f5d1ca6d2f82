// Finds where in a log the records from a given seq start, by bisecting byte offsets instead of reading from the start.
//
// Every writer of this format gives each record the next seq, chained to the one before (prev is its
// hash), so seq grows with the byte offset. A probe reads a window at an offset, skips to the next line
// start and parses the records there; the search keeps a line start `lo` with only smaller seqs before
// it, and reads a few windows, not the file.
//
// Reading from `lo` must give exactly what a scan from byte 0 gives: readLog() checks nothing, and the
// scan keeps every record with seq >= from wherever it is. That holds when seqs grow through the file.
// Tampering can break that, so anything unusual in what the probes read sends the caller back to byte 0:
// records in a window that do not follow each other (seq + 1, prev = the hash before), probes whose seqs
// go down, or records from the one before `lo` up to the first wanted one that do not follow each other
// (a spliced or cut log). A seq raised in bytes no probe read cannot be seen without reading them: only
// verifyLog() reads everything.
import type { FileHandle } from 'node:fs/promises';

import { MAX_RECORD_BYTES, parseLine } from './format';

export const SEEK_WINDOW_BYTES = 64 * 1024;

// Enough to hold a whole record line whatever the offset: the rest of one line, then the next.
const MAX_WINDOW_BYTES = 2 * (MAX_RECORD_BYTES + 1);

interface Seen {
  /** Where the record's line starts. */
  offset: number;
  /** Where the next line starts. */
  end: number;
  seq: number;
  prev: string;
  hash: string;
}

async function readWindow(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The records of the complete lines that start at or after `at` within `length` bytes (none past `size`). */
async function probe(file: FileHandle, size: number, at: number, length: number): Promise<Seen[]> {
  // One byte before `at`: when it is a newline, `at` itself is a line start.
  const from = at - 1;
  const bytes = await readWindow(file, from, Math.min(length, size - from));
  const records: Seen[] = [];
  let start = bytes.indexOf(0x0a) + 1;
  if (start === 0) return records;
  for (;;) {
    const newline = bytes.indexOf(0x0a, start);
    if (newline === -1) return records;
    if (newline - start <= MAX_RECORD_BYTES) {
      const parsed = parseLine(bytes.subarray(start, newline));
      if (parsed !== null) records.push({ offset: from + start, end: from + newline + 1, seq: parsed.seq, prev: parsed.prev, hash: parsed.hash });
    }
    start = newline + 1;
  }
}

function nonDecreasing(records: Seen[]): boolean {
  for (let i = 1; i < records.length; i += 1) if (records[i]!.seq < records[i - 1]!.seq) return false;
  return true;
}

/** Whether `next` is the record a writer appends after `record`. */
const follows = (next: Seen, record: Seen): boolean => next.seq === record.seq + 1 && next.prev === record.hash;

function chained(records: Seen[]): boolean {
  for (let i = 1; i < records.length; i += 1) if (!follows(records[i]!, records[i - 1]!)) return false;
  return true;
}

/** The records of the first window at `at` that holds any, growing it up to a whole record's room. */
async function probeGrowing(file: FileHandle, size: number, at: number, windowBytes: number): Promise<{ records: Seen[]; reached: number }> {
  for (let length = windowBytes; ; length *= 4) {
    const window = Math.min(length, MAX_WINDOW_BYTES);
    const records = await probe(file, size, at, window);
    const reached = at - 1 + window;
    if (records.length > 0 || window >= MAX_WINDOW_BYTES || reached >= size) return { records, reached };
  }
}

/**
 * A line start of `file` (`size` bytes) to scan from so that the records with seq >= `from` it yields
 * are those of a scan from byte 0: 0 when the probes cannot tell.
 */
export async function findStart(file: FileHandle, size: number, from: number, windowBytes = SEEK_WINDOW_BYTES): Promise<number> {
  let lo = 0; // a line start with, as far as the probes show, only records with smaller seqs before it
  let hi = size; // the first record with seq >= from starts at or before this
  const seen: Seen[] = [];
  while (hi - lo > windowBytes) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const { records } = await probeGrowing(file, size, mid, windowBytes);
    // No record near mid (damage, or a line longer than a record): scanning from lo is still right.
    if (records.length === 0) break;
    if (!chained(records)) return 0;
    seen.push(...records);
    const firstWanted = records.findIndex((record) => record.seq >= from);
    if (firstWanted === -1) {
      lo = records[records.length - 1]!.end;
    } else if (firstWanted > 0) {
      lo = records[firstWanted - 1]!.end;
      break;
    } else if (records[0]!.offset < hi) {
      hi = records[0]!.offset;
    } else {
      break;
    }
  }
  if (lo === 0) return 0;
  // Every probed record must agree: seqs in file order never decrease, and none before lo is wanted.
  seen.sort((a, b) => a.offset - b.offset);
  if (!nonDecreasing(seen) || seen.some((record) => record.offset < lo && record.seq >= from)) return 0;
  return (await landingHolds(file, size, lo, seen.find((record) => record.end === lo)!, from, windowBytes)) ? lo : 0;
}

/**
 * From the record that ends at lo (`before`), each record must follow the one before it up to the first
 * wanted one (or the end of the file): a log spliced or cut there shows a gap.
 */
async function landingHolds(file: FileHandle, size: number, lo: number, before: Seen, from: number, windowBytes: number): Promise<boolean> {
  for (let length = windowBytes; ; length *= 4) {
    const window = Math.min(length, MAX_WINDOW_BYTES);
    let previous = before;
    for (const record of await probe(file, size, lo, window)) {
      if (!follows(record, previous)) return false;
      if (record.seq >= from) return true;
      previous = record;
    }
    if (lo - 1 + window >= size) return true;
    if (window >= MAX_WINDOW_BYTES) return false;
  }
}
