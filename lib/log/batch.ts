// Records encoded and waiting to be written together, and exactly which of them a failed write kept.
import type { Head } from './format';
import { type LogFile, WriteFailure } from './log-file';
import { type RecordBuffer, createRecordBuffer } from './record-buffer';

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
  /** The records' bytes, encoded as they were chained. */
  readonly records: RecordBuffer = createRecordBuffer();
  #entries: Entry[] = [];
  /** The entries of the write started and not settled yet. */
  #writing: Entry[] = [];

  /** Adds the record just pushed into `records`, and who waits for it. */
  add(head: Head, owner: Owner, waiter: Waiter | null): void {
    this.#entries.push({ head, owner, waiter });
  }

  get isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /** True from start() until finish(). */
  get writing(): boolean {
    return this.#writing.length > 0;
  }

  /** The buffered records' length in bytes: it bounds memory, and counts toward a segment's size. */
  get bytes(): number {
    return this.records.bytes;
  }

  /** start() and finish(): the records written in one write, settled before returning. */
  write(file: LogFile, explain: (cause: unknown) => unknown): { syncing: Waiter[]; failure: WriteFailure | null } {
    this.start(file);
    return this.finish(file, explain);
  }

  /**
   * Starts writing the buffered records in one write (on the addon's background thread, when it has
   * one), while more are added. The last write must be finished first.
   */
  start(file: LogFile): void {
    if (this.#entries.length === 0) return;
    this.#writing = this.#entries;
    this.#entries = [];
    file.startRecords(this.records);
  }

  /**
   * Waits for the write start() began. `syncing` holds the waiters whose record reached the file and
   * that still wait for fdatasync; the other written ones are resolved. On failure, only the records
   * that did not reach the file whole are rejected (with the explained cause) or, when already
   * acknowledged, reported to their owner; `failure` tells the caller to discard() what was added since
   * and catch up with what the file holds.
   */
  finish(file: LogFile, explain: (cause: unknown) => unknown): { syncing: Waiter[]; failure: WriteFailure | null } {
    const entries = this.#writing;
    this.#writing = [];
    if (entries.length === 0) return { syncing: [], failure: null };
    try {
      file.settleRecords(this.records);
    } catch (error) {
      if (!(error instanceof WriteFailure)) throw error;
      const kept = this.records.wholeLines(error.written);
      const explained = explain(error.cause);
      for (const entry of entries.slice(kept)) {
        if (entry.waiter !== null) entry.waiter.reject(explained);
        else entry.owner.noteLost(entry.head.seq, error.cause);
      }
      return { syncing: settleWritten(entries.slice(0, kept)), failure: error };
    }
    return { syncing: settleWritten(entries), failure: null };
  }

  /**
   * Drops the records added since a write that failed: they chain on records the file does not hold,
   * so none of them is written. Each is rejected, or reported to its owner when already acknowledged.
   */
  discard(failure: WriteFailure, explained: unknown): void {
    for (const entry of this.#entries) {
      if (entry.waiter !== null) entry.waiter.reject(explained);
      else entry.owner.noteLost(entry.head.seq, failure.cause);
    }
    this.#entries = [];
    this.records.clear();
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
