// The cross-process queue: appends made while another process holds the lock wait here, in order.

import { Batch, type Owner, type Waiter } from './batch';
import type { LogCore } from './core';
import type { SigningKey } from './format';
import type { Session } from './session';

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Queued appends are written this many bytes at a time. */
const BATCH_BYTES = 1024 * 1024;

export interface Pending {
  dataJson: string;
  key: SigningKey | null;
  owner: Owner;
  waiter: Waiter;
}

export class LockQueue {
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly core: LogCore,
    private readonly session: Session,
  ) {}

  get isEmpty(): boolean {
    return this.#pending.length === 0;
  }

  push(pending: Pending): void {
    this.#pending.push(pending);
    this.kick();
  }

  /** Starts writing what is queued, if it is not being written already. */
  kick(): void {
    if (this.#pending.length > 0) this.#flushing ??= this.#flushLoop();
  }

  /** Settles once everything queued so far is written (or has failed). */
  async drained(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  /**
   * Takes the lock without waiting and runs `section` in the same synchronous call, so that nothing
   * else in this process can run between the two; waits and tries again while another process (or a
   * session of this one) holds it.
   */
  async critical(key: SigningKey | null, section: () => void): Promise<void> {
    // (An empty queue section is fine: the synchronous paths may have written everything meanwhile.)
    for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
      if (!this.session.holding && this.core.lock.tryAcquire()) {
        try {
          this.core.catchUp(key);
          section();
          return;
        } finally {
          this.core.lock.release();
        }
      }
      await sleep(delay);
    }
  }

  /** Writes everything queued now, on this thread: waits for the lock (`wait`) or gives up when it is held. */
  writeNowSync(wait: boolean): void {
    if (this.#pending.length === 0 || this.session.holding) return;
    const lock = this.core.lock;
    if (wait) lock.acquire();
    else if (!lock.tryAcquire()) return;
    try {
      this.core.catchUp(this.#pending[0]!.key);
      this.writeHeldSync();
    } finally {
      lock.release();
    }
  }

  /** Under the lock, caught up: writes everything queued, in order, and syncs what must be on disk. */
  writeHeldSync(): void {
    while (this.#pending.length > 0) {
      const syncing = this.#writeBatch(this.#takeBatch());
      // Acknowledged only once on disk, as an awaited append would be.
      this.core.syncNow(syncing);
    }
  }

  // Queued appends stay in #pending until the critical section that writes them: while this loop waits
  // for the lock, later appends queue behind them and the synchronous paths (appendSync, flushSync, the
  // exit hook) still see them and write them first, so records are chained in call order.
  async #flushLoop(): Promise<void> {
    while (this.#pending.length > 0) {
      let batch: Pending[] = [];
      let syncing: Waiter[] = [];
      let sync: (() => Promise<void>) | null = null;
      try {
        await this.critical(this.#pending[0]!.key, () => {
          batch = this.#takeBatch();
          syncing = this.#writeBatch(batch);
          if (syncing.length > 0) sync = this.core.file.reserveSync();
        });
      } catch (error) {
        const explained = this.core.explain(error);
        // Taken from the queue only once the lock was held: a failure before that leaves them queued.
        const failed = batch.length > 0 ? batch : this.#pending.splice(0, this.#pending.length);
        for (const pending of failed) pending.waiter.reject(explained);
        continue;
      }
      if (syncing.length > 0) {
        try {
          await sync!();
          for (const waiter of syncing) waiter.resolve(waiter.head);
        } catch (error) {
          const explained = this.core.explain(error);
          for (const waiter of syncing) waiter.reject(explained);
        }
      }
    }
    this.#flushing = null;
  }

  // Under the lock, after catching up. Returns the waiters that still need fdatasync.
  #writeBatch(batch: Pending[]): Waiter[] {
    if (batch.length === 0) return [];
    const records = new Batch();
    const syncing: Waiter[] = [];
    const write = (): void => {
      const written = records.write(this.core.file, this.core.chain, this.core.explain);
      syncing.push(...written.syncing);
      if (written.failure === null) return;
      this.core.catchUpAfterFailure(batch[0]!.key);
    };
    for (const pending of batch) {
      const head = this.core.nextData(records.records, pending.dataJson, pending.key, write);
      pending.waiter.head = head;
      records.add(head, pending.owner, pending.waiter);
    }
    write();
    this.core.afterWrite(batch[0]!.key);
    return syncing;
  }

  #takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#pending.length && (count === 0 || bytes < BATCH_BYTES)) {
      bytes += this.#pending[count]!.dataJson.length + 200;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }
}
