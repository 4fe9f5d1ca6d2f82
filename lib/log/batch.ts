// Records encoded and waiting to be written together, and exactly which of them a failed write kept.
import type { Chain } from './chain';
import type { Head, SigningKey } from './format';
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

/** Records handed over as data, encoded when their write starts: one key for all, seqs from `seq` on. */
interface Staged {
  seq: number;
  key: SigningKey | null;
  jsons: string[];
  /** Every staged append waits for its write: none is acknowledged before. */
  waiters: Waiter[];
  /** Their lines' length, about: their data in UTF-16 units and each one's fields around it. */
  units: number;
  envelope: number;
}

/**
 * The bytes a record's line takes around its data: {"seq":<16 digits at most>,"ts":"<24>","prev":"<64>",
 * "data":...,"hash":"<64>"}\n, and ,"keyId":"<id>" and ,"sig":"<64>" when signed. An upper bound, so a
 * burst of small records is still written about every 64 KiB.
 */
function envelopeBytes(key: SigningKey | null): number {
  return 213 + (key === null ? 0 : 84 + key.id.length);
}

export class Batch {
  /** The records' bytes, encoded as they were chained. */
  readonly records: RecordBuffer = createRecordBuffer();
  #entries: Entry[] = [];
  #staged: Staged | null = null;
  /** The entries of the write started and not finished yet, and of its staged records. */
  #writing: Entry[] = [];
  #writingStaged: Staged | null = null;

  /** Adds the record just pushed into `records`, and who waits for it. */
  add(head: Head, owner: Owner, waiter: Waiter | null): void {
    this.#entries.push({ head, owner, waiter });
  }

  /**
   * Adds a record by its data, to be encoded when the write starts (record `seq`, after the pending
   * records and the staged ones). `waiter` is resolved with its { seq, hash } once written.
   */
  stage(seq: number, dataJson: string, key: SigningKey | null, waiter: Waiter): void {
    const staged = (this.#staged ??= { seq, key, jsons: [], waiters: [], units: 0, envelope: envelopeBytes(key) });
    staged.jsons.push(dataJson);
    staged.units += dataJson.length + staged.envelope;
    staged.waiters.push(waiter);
  }

  /** The key of the records staged, or undefined when none is. */
  get stagedKey(): SigningKey | null | undefined {
    return this.#staged?.key;
  }

  get isEmpty(): boolean {
    return this.#entries.length === 0 && this.#staged === null;
  }

  /** True from start() until finish(). */
  get writing(): boolean {
    return this.#writing.length > 0 || this.#writingStaged !== null;
  }

  /**
   * The buffered records' length in bytes (the staged ones' about: their data counted in UTF-16 units):
   * it bounds memory, and counts toward a segment's size (segmented logs stage nothing).
   */
  get bytes(): number {
    return this.records.bytes + (this.#staged?.units ?? 0);
  }

  /** start() and finish(): the records written in one write, settled before returning. */
  write(file: LogFile, chain: Chain, explain: (cause: unknown) => unknown): Written {
    this.start(file, chain);
    return this.finish(file, chain, explain);
  }

  /**
   * Starts writing the buffered records, then the staged ones, in one write (on the addon's background
   * thread, when it has one), while more are added. The last write must be finished first.
   */
  start(file: LogFile, chain: Chain): void {
    const staged = this.#staged;
    if (this.#entries.length === 0 && staged === null) return;
    this.#writing = this.#entries;
    this.#writingStaged = staged;
    this.#entries = [];
    this.#staged = null;
    file.startRecords(this.records, staged === null ? undefined : { seq: staged.seq, prev: chain.prevFor(this.records), jsons: staged.jsons, key: staged.key });
  }

  /**
   * Waits for the write start() began; the staged records it wrote become the chain's head. `syncing`
   * holds the waiters whose record reached the file and that still wait for fdatasync; the other
   * written ones are resolved. On failure, only the records that did not reach the file whole are
   * rejected (with the explained cause) or, when already acknowledged, reported to their owner;
   * `failure` tells the caller to discard() what was added since and catch up with what the file holds.
   */
  finish(file: LogFile, chain: Chain, explain: (cause: unknown) => unknown): Written {
    const entries = this.#writing;
    const staged = this.#writingStaged;
    this.#writing = [];
    this.#writingStaged = null;
    if (entries.length === 0 && staged === null) return { syncing: [], failure: null };
    let hashes: string;
    try {
      hashes = file.settleRecords(this.records);
    } catch (error) {
      if (!(error instanceof WriteFailure)) throw error;
      const kept = this.records.wholeLines(error.written);
      const explained = explain(error.cause);
      for (const entry of entries.slice(kept)) {
        if (entry.waiter !== null) entry.waiter.reject(explained);
        else entry.owner.noteLost(entry.head.seq, error.cause);
      }
      const syncing = settleWritten(entries.slice(0, kept));
      if (staged !== null) {
        const stagedKept = Math.max(0, kept - entries.length);
        settleStaged(staged, error.hashes, stagedKept, syncing);
        for (const waiter of staged.waiters.slice(stagedKept)) waiter.reject(explained);
      }
      return { syncing, failure: error };
    }
    const syncing = settleWritten(entries);
    if (staged !== null) chain.settled(staged.jsons.length, settleStaged(staged, hashes, staged.waiters.length, syncing), this.records);
    return { syncing, failure: null };
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
    for (const waiter of this.#staged?.waiters ?? []) waiter.reject(explained);
    this.#entries = [];
    this.#staged = null;
    this.records.clear();
  }
}

export interface Written {
  syncing: Waiter[];
  failure: WriteFailure | null;
}

/**
 * Gives the first `count` staged records their { seq, hash } (from the hashes of those encoded) and
 * resolves their waiters, or adds them to `syncing`. Returns the last one's head.
 */
function settleStaged(staged: Staged, hashes: string, count: number, syncing: Waiter[]): Head {
  let head: Head = { seq: staged.seq - 1, hash: '' };
  for (let index = 0; index < count; index += 1) {
    head = { seq: staged.seq + index, hash: hashes.slice(64 * index, 64 * index + 64) };
    const waiter = staged.waiters[index]!;
    waiter.head = head;
    if (waiter.durable) syncing.push(waiter);
    else waiter.resolve(head);
  }
  return head;
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
