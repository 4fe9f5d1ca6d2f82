// Finds where in a log the records from a given seq start, by bisecting byte offsets instead of reading from the start.
//
// Every writer of this format gives each record the next seq, so seq grows with the byte offset. A probe
// reads a window at an offset, skips to the next line start and parses the records there; the search
// keeps a line start `lo` with only smaller seqs before it. It reads a few windows, not the file.
//
// Reading from `lo` must give exactly what a scan from byte 0 gives (readLog checks nothing, and the
// scan keeps every record with seq >= from wherever it is). That holds when seqs never decrease through
// the file. A tampered file may break that anywhere; what the probes read is checked, and wherever they
// saw seqs decrease the search gives up and the caller scans from byte 0. A record whose seq was raised
// in bytes no probe read cannot be seen without reading them: only verifyLog() reads everything.
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
      if (parsed !== null) records.push({ offset: from + start, end: from + newline + 1, seq: parsed.seq });
    }
    start = newline + 1;
  }
}

function nonDecreasing(records: Seen[]): boolean {
  for (let i = 1; i < records.length; i += 1) if (records[i]!.seq < records[i - 1]!.seq) return false;
  return true;
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
    let records: Seen[] = [];
    for (let length = windowBytes; records.length === 0; length *= 4) {
      records = await probe(file, size, mid, Math.min(length, MAX_WINDOW_BYTES));
      if (length >= MAX_WINDOW_BYTES || mid + length >= size) break;
    }
    // No record near mid (damage, or a line longer than a record): scanning from lo is still right.
    if (records.length === 0) break;
    if (!nonDecreasing(records)) return 0;
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
  // Every probed record must agree: seqs in file order never decrease, and none before lo is wanted.
  seen.sort((a, b) => a.offset - b.offset);
  if (!nonDecreasing(seen) || seen.some((record) => record.offset < lo && record.seq >= from)) return 0;
  return lo;
}
