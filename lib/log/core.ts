// What the parts of a writer share: the lock, the open file (the active segment of a directory log),
// the chain, and how failures are explained.
import { fdatasyncSync } from 'node:fs';

import type { Waiter } from './batch';
import type { Chain } from './chain';
import type { LogDirectory } from './directory';
import { explainLogFailure, logSealedError } from './errors';
import type { Head, SigningKey } from './format';
import type { RecordBuffer } from './record-buffer';
import type { FileLock } from './lock';
import type { LogFile } from './log-file';
import { type TreeKeeping, catchUp } from './recovery';
import { type CheckpointPolicy, Checkpointer } from './checkpoints';
import { WriterTree } from './tree';

export class LogCore {
  constructor(
    /** The file records are appended to: for a directory log, its active segment (it changes at rotation). */
    public file: LogFile,
    readonly lock: FileLock,
    readonly chain: Chain,
    /** The path named in errors: the file, or the directory of a segmented log. */
    readonly path: string,
    readonly directory: LogDirectory | null,
  ) {}

  /** A catch-up after a failed write failed: the head is not to be trusted until one succeeds. */
  #stale = false;

  /** The Merkle tree and checkpoints, when the log makes checkpoints. */
  #checkpointer: Checkpointer | null = null;

  get checkpointer(): Checkpointer | null {
    return this.#checkpointer;
  }

  /** Starts keeping the tree (rebuilt under the lock at the next catch-up) and making checkpoints. */
  keepCheckpoints(policy: CheckpointPolicy): void {
    if (this.#checkpointer !== null) return;
    const tree = new WriterTree();
    this.#checkpointer = new Checkpointer(policy, tree);
    this.file.observer = { written: (bytes) => tree.foldWritten(bytes), writing: (records) => tree.foldRecords(records), failed: () => tree.invalidate() };
    // Read from the start at the next catch-up, so the tree is rebuilt with the lock held.
    this.file.end = -1;
  }

  /** Under the lock: rebuilds the tree from the files (after a failed write, or at open). */
  rebuildTree(): void {
    const tree = this.#checkpointer?.tree;
    if (tree === undefined) return;
    tree.rebuild(this.directory === null ? this.file.target : this.directory.activeTarget, this.directory?.target ?? null);
  }

  /** What catching up needs to keep the tree, or null. */
  get treeKeeping(): TreeKeeping | null {
    const tree = this.#checkpointer?.tree;
    return tree === undefined ? null : { tree, rebuild: () => this.rebuildTree() };
  }

  /**
   * Under the lock, after a write: a checkpoint when `every` asks for one. Its failure is a warning: it
   * must never fail the appends just written.
   */
  afterWrite(key: SigningKey | null): void {
    const checkpointer = this.#checkpointer;
    if (checkpointer === null || !checkpointer.due(Date.now())) return;
    try {
      checkpointer.make(this, key);
    } catch (error) {
      process.emitWarning(`fs-append-only: a checkpoint of ${this.path} failed: ${(error as Error).message}`, { code: 'FS_APPEND_ONLY_CHECKPOINT' });
    }
  }

  /** fdatasync now, on this thread, and settle the waiters it makes durable. */
  syncNow(waiters: Waiter[]): void {
    if (waiters.length === 0) return;
    try {
      fdatasyncSync(this.file.fd);
      for (const waiter of waiters) waiter.resolve(waiter.head);
    } catch (error) {
      const explained = this.explain(error);
      for (const waiter of waiters) waiter.reject(explained);
    }
  }

  explain = (error: unknown): unknown => explainLogFailure(error instanceof Error && error.name === 'WriteFailure' ? error.cause : error, this.path);

  /**
   * Under the lock, after a write failed: continue from what the file holds. When that fails too (a full
   * disk refusing the recovery record as well), the head may name a record the file lacks: the next
   * record chained catches up first (catchUpIfStale), and the failure is reported then.
   */
  catchUpAfterFailure(key: SigningKey | null): void {
    try {
      this.catchUp(key);
    } catch {
      this.#stale = true;
    }
  }

  /** Under the lock, before a record is chained: catches up if the last catch-up after a failure failed; throws if it fails again. */
  catchUpIfStale(key: SigningKey | null): void {
    if (this.#stale) this.catchUp(key);
  }

  /** Under the lock: continue from what the file holds, closing any bytes after its last record. */
  catchUp(key: SigningKey | null): void {
    if (this.directory !== null) this.directory.catchUp(this, key);
    else {
      const tail = catchUp(this.file, this.chain, key, this.path, null, this.treeKeeping);
      if (tail?.headLine?.type === 'seal') throw logSealedError(this.path);
    }
    this.#stale = false;
  }

  /**
   * Under the lock: encodes the next data record into `records`. When it would take the active segment
   * past its rotation limit, `writePending` first writes what `records` holds, the segment is sealed,
   * and the record opens the next one.
   */
  nextData(records: RecordBuffer, dataJson: string, key: SigningKey | null, writePending: () => void): Head {
    this.catchUpIfStale(key);
    const directory = this.directory;
    if (directory === null || directory.policy === null) return this.chain.push(records, dataJson, key);
    const before = this.chain.head;
    const pendingBefore = records.bytes;
    const head = this.chain.push(records, dataJson, key);
    const now = Date.now();
    if (directory.due(this.file.end + pendingBefore, records.bytes - pendingBefore, now, head.seq, key)) {
      records.pop();
      this.chain.reset(before);
      writePending();
      directory.rotate(this, key);
      const opening = this.chain.push(records, dataJson, key);
      directory.noteRecord(now);
      return opening;
    }
    directory.noteRecord(now);
    return head;
  }
}
