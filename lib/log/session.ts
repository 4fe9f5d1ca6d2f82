// Sessions and group commit: appends of one event-loop turn share one lock, one write and one fdatasync.
//
// The first append of a turn takes the flock without waiting and catches up with what other processes
// wrote; every append until the turn ends is chained and buffered, written at BUFFER_BYTES or when the
// turn ends, and the lock is released then. So an awaited append costs no write and no native call of
// its own, and memory stays bounded however fast appends come. Durability (fdatasync) comes after the
// lock is released: one flush covers the whole session.

import { Batch, type Owner, type Waiter } from './batch';
import type { LogCore } from './core';
import type { Head, SigningKey } from './format';
import type { RecordBuffer } from './record-buffer';


/** Buffered records are written once they reach this much: the bound on memory for fast producers. */
const BUFFER_BYTES = 64 * 1024;

/** With 'sync', a session that holds this many unresolved appends flushes and syncs in line. */
const MAX_WAITERS = 8192;

export class Session {
  #holding = false;
  #batch = new Batch();
  /** Written in this session, waiting for its fdatasync. */
  #written: Waiter[] = [];
  #syncing: Promise<void> = Promise.resolve();
  /** The key of the append that opened the session: it signs a recovery record a failed write needs. */
  #key: SigningKey | null = null;

  constructor(
    private readonly core: LogCore,
    /** Called when a session ends, so that appends queued meanwhile can go. */
    private readonly onEnd: () => void,
  ) {}

  /** True while this process holds the lock for a session. */
  get holding(): boolean {
    return this.#holding;
  }

  /** Settles when every fdatasync started so far has. */
  get syncing(): Promise<void> {
    return this.#syncing;
  }

  /** Takes the lock without waiting and catches up once; false when another process holds it. */
  enter(key: SigningKey | null): boolean {
    if (this.#holding) return true;
    if (!this.core.lock.tryAcquire()) return false;
    this.#holding = true;
    this.#key = key;
    try {
      this.core.catchUp(key);
    } catch (error) {
      this.#holding = false;
      this.core.lock.release();
      throw error;
    }
    setImmediate(() => {
      if (this.#holding) this.end();
    });
    return true;
  }

  /** Where the session's records are encoded (core.nextData pushes them there). */
  get records(): RecordBuffer {
    return this.#batch.records;
  }

  /** Adds the record just pushed into `records`. */
  add(head: Head, owner: Owner, waiter: Waiter | null): void {
    this.#batch.add(head, owner, waiter);
    if (this.#batch.bytes >= BUFFER_BYTES) this.#writeBehind();
    if (this.#written.length >= MAX_WAITERS) this.#syncInLine();
  }

  /**
   * Adds a record by its data: its seq is taken now, it is encoded when its buffer's write starts (on the
   * addon's background thread), and `waiter` resolves once it is written. For appends that come many at
   * a time, while the main thread stringifies the next ones.
   */
  stage(dataJson: string, key: SigningKey | null, waiter: Waiter): void {
    // One key for every staged record of a write.
    if (this.#batch.stagedKey !== undefined && this.#batch.stagedKey !== key) this.#writeStaged();
    this.#batch.stage(this.core.chain.stage(this.#writeStaged), dataJson, key, waiter);
    if (this.#batch.bytes >= BUFFER_BYTES) this.#writeBehind();
    if (this.#written.length >= MAX_WAITERS) this.#syncInLine();
  }

  /** Starts writing the staged records (a burst of appends ended): they are encoded while the thread goes on. */
  startStaged(): void {
    if (this.#batch.stagedKey !== undefined) this.#writeBehind();
  }

  // The chain needs the staged records' hashes: write them now.
  readonly #writeStaged = (): void => {
    if (this.#settle() !== null) return;
    if (this.#batch.stagedKey === undefined) return;
    this.#batch.start(this.core.file, this.core.chain);
    this.#settle();
  };

  // A full buffer is written while the next is encoded: the last write is settled, this one started.
  #writeBehind(): void {
    if (this.#settle() === null) this.#batch.start(this.core.file, this.core.chain);
  }

  /**
   * Settles the write in flight. After a failure, the records encoded since are discarded (they chain on
   * records the file does not hold) and the tail is re-read, still under the lock, so the chain goes on
   * from what the file holds. Returns the explained failure, or null.
   */
  #settle(): unknown {
    if (!this.#batch.writing) return null;
    const { syncing, failure } = this.#batch.finish(this.core.file, this.core.chain, this.core.explain);
    this.#written.push(...syncing);
    if (failure === null) return null;
    const explained = this.core.explain(failure);
    this.#batch.discard(failure, explained);
    this.core.chain.abandonStaged();
    this.core.catchUpAfterFailure(this.#key);
    return explained;
  }

  /**
   * Writes everything buffered, and returns once it is written. A failure rejects (or reports as lost)
   * exactly the records that did not reach the file. Returns the explained failure, or null.
   */
  write(): unknown {
    const failed = this.#settle();
    if (failed !== null) return failed;
    this.#batch.start(this.core.file, this.core.chain);
    const failure = this.#settle();
    // A checkpoint only now: records are written in chain order, none left buffered before it.
    if (failure === null) this.core.afterWrite(this.#key);
    return failure;
  }

  /** Writes what is buffered, releases the lock, and starts the session's fdatasync. */
  end(): void {
    this.write();
    this.#holding = false;
    this.core.lock.release();
    const waiters = this.#written.splice(0);
    if (waiters.length > 0) {
      const sync = this.core.file.reserveSync();
      this.#syncing = this.#syncing.then(() =>
        sync().then(
          () => waiters.forEach((waiter) => waiter.resolve(waiter.head)),
          (error: unknown) => {
            const explained = this.core.explain(error);
            waiters.forEach((waiter) => waiter.reject(explained));
          },
        ),
      );
    }
    this.onEnd();
  }

  /** As end(), without leaving the thread: for flushSync() and the exit hook. */
  endSync(): void {
    this.write();
    this.#syncInLine();
    this.#holding = false;
    this.core.lock.release();
    this.onEnd();
  }

  // 'sync' with many appends in flight, or ending synchronously: fdatasync now, on this thread.
  #syncInLine(): void {
    this.core.syncNow(this.#written.splice(0));
  }
}
