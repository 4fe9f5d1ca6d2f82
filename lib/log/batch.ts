// Records encoded and waiting to be written together, and exactly which of them a failed write kept.
import type { EncodedRecord } from './chain';
import type { Head } from './format';
import { type LogFile, WriteFailure } from './log-file';

/** A caller waiting for its record: resolved once written (and, when durable, once on disk). */
export interface Waiter {
  head: Head;
  durable: boolean;
  resolve(head: Head): void;
  reject(error: unknown): void;
}

/** Whoever appended a record that was acknowledged before it was written ('none'): told if it is lost. */
export interface Owner {
  noteLost(seq: number, cause: unknown): void;
}

interface Entry {
  head: Head;
  owner: Owner;
  /** null when the append already resolved ('none' in a session). */
  waiter: Waiter | null;
}

export class Batch {
  #lines: string[] = [];
  #bytes = 0;
  #entries: Entry[] = [];

  add(record: EncodedRecord, owner: Owner, waiter: Waiter | null): void {
    this.#lines.push(record.line);
    this.#bytes += Buffer.byteLength(record.line);
    this.#entries.push({ head: record.head, owner, waiter });
  }

  get isEmpty(): boolean {
    return this.#lines.length === 0;
  }

  /** The buffered lines' length in bytes: it bounds memory, and counts toward a segment's size. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Writes the lines in one write. `syncing` holds the waiters whose record reached the file and that
   * still wait for fdatasync; the other written ones are resolved. On failure, only the records that
   * did not reach the file whole are rejected (with the explained cause) or, when already acknowledged,
   * reported to their owner; `failure` tells the caller to catch up with what the file holds.
   */
  write(file: LogFile, explain: (cause: unknown) => unknown): { syncing: Waiter[]; failure: WriteFailure | null } {
    const lines = this.#lines;
    const entries = this.#entries;
    this.#lines = [];
    this.#bytes = 0;
    this.#entries = [];
    if (lines.length === 0) return { syncing: [], failure: null };
    let kept = entries.length;
    try {
      file.writeAll(Buffer.from(lines.length === 1 ? lines[0]! : lines.join('')));
    } catch (error) {
      if (!(error instanceof WriteFailure)) throw error;
      kept = wholeLines(lines, error.written);
      const explained = explain(error.cause);
      for (const entry of entries.slice(kept)) {
        if (entry.waiter !== null) entry.waiter.reject(explained);
        else entry.owner.noteLost(entry.head.seq, error.cause);
      }
      return { syncing: settleWritten(entries.slice(0, kept)), failure: error };
    }
    return { syncing: settleWritten(entries), failure: null };
  }
}

// Resolves the written records that need no fdatasync; returns those that do.
function settleWritten(entries: Entry[]): Waiter[] {
  const syncing: Waiter[] = [];
  for (const { waiter } of entries) {
    if (waiter === null) continue;
    if (waiter.durable) syncing.push(waiter);
    else waiter.resolve(waiter.head);
  }
  return syncing;
}

/** How many of `lines` lie whole within the first `bytes` bytes written. Only runs after a failure. */
function wholeLines(lines: string[], bytes: number): number {
  let total = 0;
  for (let i = 0; i < lines.length; i += 1) {
    total += Buffer.byteLength(lines[i]!);
    if (total > bytes) return i;
  }
  return lines.length;
}
