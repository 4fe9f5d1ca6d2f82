// The log's Merkle tree as a writer keeps it: the compact range of the records in the file, up to the
// offset this process knows (RFC 6962 leaves: each record's hash, in seq order).
//
// The range follows the bytes, not the chain: records this process writes are folded in once the write
// succeeded, records other processes wrote are read and folded in when catching up, and after a failed
// write the range is rebuilt from the last record that stored one (a checkpoint, or a prune record for
// the segments it removed), so a checkpoint never re-reads the log.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

import { CompactRange } from '../checkpoint/merkle';
import type { Target } from '../paths';
import { segmentTarget } from './directory';
import { hashMatches, parseLine } from './format';
import { listSegments, segmentFirstSeq } from './segments';
import { findLastOfType } from './tail';
import type { RecordBuffer } from './record-buffer';

const CHUNK_BYTES = 1024 * 1024;

/** What a checkpoint or prune record stores: the range of every record before it (or up to what it pruned). */
export interface StoredRange {
  size: number;
  hashes: string[];
}

/** Calls `line(bytes)` for each complete line in fd[from, to), 1 MiB at a time (a longer line is skipped). */
function eachLine(fd: number, from: number, to: number, line: (bytes: Buffer) => void): void {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = from;
  while (position < to) {
    const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, to - position), position);
    if (read === 0) break;
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, 0); newline !== -1 && newline < read; newline = chunk.indexOf(0x0a, start)) {
      line(chunk.subarray(start, newline));
      start = newline + 1;
    }
    // A line longer than the chunk: step over it whole.
    position += start === 0 ? read : start;
  }
}

export class WriterTree {
  #range = new CompactRange();
  /** False after a write failed part-way: the range no longer matches the file until rebuilt. */
  #valid = false;

  get range(): CompactRange {
    return this.#range;
  }

  get valid(): boolean {
    return this.#valid;
  }

  invalidate(): void {
    this.#valid = false;
  }

  /**
   * Folds the records of bytes this process wrote whole, in one call: each line ending
   * `,"hash":"<64 hex>"}` is a record; a "~" line is not.
   */
  foldWritten(bytes: Buffer): void {
    if (!this.#valid) return;
    this.#range.appendRecordLines(bytes, 0, bytes.length);
  }

  /** Folds the records about to be written from `records` (a failed write invalidates the range after). */
  foldRecords(records: RecordBuffer): void {
    if (!this.#valid) return;
    records.fold(this.#range);
  }

  /** Folds the valid records of fd[from, to), written by another process (its lines are checked). */
  foldFile(fd: number, from: number, to: number, afterSeq = 0): void {
    eachLine(fd, from, to, (bytes) => {
      const parsed = parseLine(bytes);
      if (parsed !== null && parsed.seq > afterSeq && hashMatches(parsed)) this.#range.appendRecordHash(parsed.hash);
    });
  }

  /**
   * Rebuilds the range of a log file (or of the segments of a directory log, up to and including the
   * active one, `file`) from its last record that stored one, folding what follows; from the start when
   * none did. Throws when the log's first records are gone and no record kept their range.
   */
  rebuild(file: Target, directory: Target | null): void {
    let files = [file];
    if (directory !== null) {
      const all = listSegments(directory.bytes).map((name) => segmentTarget(directory, name));
      files = all.slice(0, all.findIndex((target) => target.text === file.text) + 1);
    }
    const start = this.#restorePoint(files);
    this.#range = start.range;
    for (const [index, target] of files.entries()) {
      if (index < start.file) continue;
      const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        this.foldFile(fd, index === start.file ? start.offset : 0, fstatSync(fd).size, start.range.size);
      } finally {
        closeSync(fd);
      }
    }
    this.#valid = true;
  }

  // The last checkpoint or prune record with a stored range, searched from the last file back.
  #restorePoint(files: Target[]): { range: CompactRange; file: number; offset: number } {
    for (let index = files.length - 1; index >= 0; index -= 1) {
      const fd = openSync(files[index]!.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      let found;
      try {
        found = findLastOfType(fd, fstatSync(fd).size, ['checkpoint', 'prune']);
      } finally {
        closeSync(fd);
      }
      const stored = found === null ? null : storedRange(found.line.dataJson);
      if (found === null || stored === null) continue;
      const range = CompactRange.from(stored.size, stored.hashes);
      // A checkpoint's range covers the records before it: fold from the checkpoint itself. A prune
      // record's covers what it removed: fold from the first segment left.
      if (found.line.type === 'checkpoint') return { range, file: index, offset: found.start };
      const first = files.findIndex((target) => segmentFirstSeq(target.text.slice(target.text.lastIndexOf('/') + 1)) === stored.size + 1);
      if (first !== -1) return { range, file: first, offset: 0 };
    }
    const firstName = files[0]!.text.slice(files[0]!.text.lastIndexOf('/') + 1);
    const firstSeq = segmentFirstSeq(firstName);
    if (files.length > 1 && firstSeq !== null && firstSeq > 1) {
      throw new Error(`the log's records before seq ${firstSeq} are gone and no prune record kept their tree`);
    }
    return { range: new CompactRange(), file: 0, offset: 0 };
  }
}

/**
 * The range of every record up to `lastSeq` of a directory log, for a prune record to keep: from seq 1,
 * or from the prune record that kept the range of what was removed before.
 */
export function rangeThrough(directory: Target, lastSeq: number): CompactRange {
  const files = listSegments(directory.bytes).map((name) => ({ name, target: segmentTarget(directory, name) }));
  const firstSeq = segmentFirstSeq(files[0]?.name ?? '') ?? 1;
  let range = new CompactRange();
  if (firstSeq > 1) {
    let kept: StoredRange | null = null;
    for (const { target } of files) {
      const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        eachLine(fd, 0, fstatSync(fd).size, (bytes) => {
          if (kept !== null || !bytes.subarray(0, 256).includes(',"type":"prune"')) return;
          const parsed = parseLine(bytes);
          const stored = parsed === null ? null : storedRange(parsed.dataJson);
          if (stored !== null && stored.size === firstSeq - 1) kept = stored;
        });
      } finally {
        closeSync(fd);
      }
      if (kept !== null) break;
    }
    if (kept === null) throw new Error(`the log's records before seq ${firstSeq} are gone and no prune record kept their tree`);
    range = CompactRange.from((kept as StoredRange).size, (kept as StoredRange).hashes);
  }
  for (const { name, target } of files) {
    if ((segmentFirstSeq(name) ?? 0) > lastSeq) break;
    const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      eachLine(fd, 0, fstatSync(fd).size, (bytes) => {
        const parsed = parseLine(bytes);
        if (parsed !== null && parsed.seq > range.size && parsed.seq <= lastSeq && hashMatches(parsed)) range.appendRecordHash(parsed.hash);
      });
    } finally {
      closeSync(fd);
    }
  }
  return range;
}

/** The range a checkpoint or prune record stores, or null. */
export function storedRange(dataJson: string): StoredRange | null {
  try {
    const { range } = JSON.parse(dataJson) as { range?: StoredRange };
    if (range && Number.isSafeInteger(range.size) && Array.isArray(range.hashes)) return range;
  } catch {
    // not JSON: no range
  }
  return null;
}
