// One writer per log file in this process, shared by every AppendOnlyLog opened on it, and the exit hook.
//
// flock belongs to an open file description, so two descriptors of one file in one process would lock
// each other out: an appendSync() on one would wait for a lock only the other's next event-loop turn
// can release. Every handle on a file therefore shares one descriptor, one chain and one session.
import { fdatasyncSync, fstatSync } from 'node:fs';

import { Batch, type Owner, type Waiter } from './batch';
import { Chain } from './chain';
import type { Checkpoint } from './checkpoints';
import { LogCore } from './core';
import { LogDirectory } from './directory';
import { lockFor } from './lock';
import type { RotationPolicy } from './rotation';
import type { Head, RecordType, SigningKey } from './format';
import { LogFile } from './log-file';
import { LockQueue } from './queue';
import { Session } from './session';
import type { Target } from '../paths';

const open = new Map<string, SharedLog>();
/** The head of a staged record until it is written. */
const UNWRITTEN: Head = Object.freeze({ seq: 0, hash: '' });
let exitHookInstalled = false;

// process.exit() and an uncaught exception skip the setImmediate that ends a session: write what was
// acknowledged before the process goes. One listener for the whole process, however many logs.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const log of open.values()) log.writeOnExit();
  });
}

export class SharedLog {
  readonly core: LogCore;
  readonly session: Session;
  readonly queue: LockQueue;
  #handles = 0;

  readonly #id: string;

  private constructor(id: string, core: LogCore) {
    this.#id = id;
    this.core = core;
    this.session = new Session(this.core, () => this.queue.kick());
    this.queue = new LockQueue(this.core, this.session);
  }

  /** The shared writer of the file at `target` (absolute), opening the file if this process has not. */
  static acquire(target: Target): { log: SharedLog; created: boolean } {
    const { file, created } = LogFile.open(target);
    const id = `${file.dev}:${file.ino}`;
    const known = open.get(id);
    if (known !== undefined) {
      file.close();
      known.core.file.addPath(target);
      return { log: known.#retain(), created };
    }
    const log = new SharedLog(id, new LogCore(file, lockFor(file.fd, target.text), new Chain(), target.text, null));
    return { log: log.#register(), created };
  }

  /** The shared writer of the directory log at `target` (absolute), created when `create` and missing. */
  static acquireDirectory(target: Target, create: boolean, policy: RotationPolicy | null): { log: SharedLog; created: boolean } {
    const { directory, file, created } = LogDirectory.open(target, create, policy);
    const stats = fstatSync(directory.fd);
    const id = `${stats.dev}:${stats.ino}`;
    const known = open.get(id);
    if (known !== undefined) {
      file.close();
      directory.close();
      if (known.core.directory !== null) known.core.directory.policy ??= policy;
      return { log: known.#retain(), created };
    }
    const lock = lockFor(directory.fd, target.text);
    const core = new LogCore(file, lock, new Chain(), target.text, directory);
    directory.attach(() => core.file.fd);
    const log = new SharedLog(id, core);
    return { log: log.#register(), created };
  }

  #register(): this {
    open.set(this.#id, this);
    installExitHook();
    return this.#retain();
  }

  #retain(): this {
    this.#handles += 1;
    return this;
  }

  get head(): Head | null {
    return this.core.chain.head;
  }

  append(owner: Owner, durable: boolean, dataJson: string, key: SigningKey | null): Promise<Head> {
    // Queued appends go first, so that order is kept while another process holds the lock.
    if (this.queue.isEmpty) {
      try {
        if (this.session.enter(key)) {
          if (this.#inBurst && this.#canStage()) {
            this.core.catchUpIfStale(key);
            return new Promise<Head>((resolve, reject) => this.session.stage(dataJson, key, { head: UNWRITTEN, durable, resolve, reject }));
          }
          this.#noteAppend();
          const head = this.core.nextData(this.session.records, dataJson, key, () => this.session.write());
          if (!durable) {
            this.session.add(head, owner, null);
            return Promise.resolve(head);
          }
          return new Promise<Head>((resolve, reject) => this.session.add(head, owner, { head, durable, resolve, reject }));
        }
      } catch (error) {
        return Promise.reject(this.core.explain(error));
      }
    }
    return new Promise<Head>((resolve, reject) => {
      const waiter: Waiter = { head: { seq: 0, hash: '' }, durable, resolve, reject };
      this.queue.push({ dataJson, key, owner, waiter });
    });
  }

  // Appends that come one at a time (each awaited) are encoded at once and resolve at once; the second
  // append before the microtasks run is in a burst: it and the rest of the burst are staged, encoded
  // and written on the addon's background thread while this thread stringifies the next ones, and the
  // burst's end starts their write.
  #inBurst = false;
  readonly #burstEnded = (): void => {
    this.#inBurst = false;
    if (this.session.holding) this.session.startStaged();
  };

  #noteAppend(): void {
    if (this.#inBurst) return;
    this.#inBurst = true;
    queueMicrotask(this.#burstEnded);
  }

  // A segment's rotation needs each record's size, and the Merkle tree each record's line, as they are
  // chained: those logs encode every record at once.
  #canStage(): boolean {
    return this.core.directory === null && this.core.checkpointer === null;
  }

  /** Writes one record before returning, blocking the thread if it must wait for the lock. */
  appendSync(owner: Owner, durable: boolean, dataJson: string, key: SigningKey | null): Head {
    try {
      if (this.session.holding) {
        const head = this.core.nextData(this.session.records, dataJson, key, () => this.session.write());
        let result: { head?: Head; error?: unknown } = {};
        const waiter: Waiter = {
          head,
          durable: false,
          resolve: (written) => (result = { head: written }),
          reject: (error) => (result = { error }),
        };
        this.session.add(head, owner, waiter);
        this.session.write();
        // The record's own outcome, whichever write carried it (add() writes a full buffer at once).
        if (result.head === undefined) throw result.error;
        if (durable) fdatasyncSync(this.core.file.fd);
        return head;
      }
      this.core.lock.acquire();
      try {
        this.core.catchUp(key);
        // Appends queued before this one go first: records are chained in call order.
        this.queue.writeHeldSync();
        const batch = new Batch();
        const head = this.core.nextData(batch.records, dataJson, key, () => undefined);
        // Its failure is thrown here, not reported as a lost record too.
        batch.add(head, owner, { head, durable: false, resolve: () => undefined, reject: () => undefined });
        const { failure } = batch.write(this.core.file, this.core.chain, this.core.explain);
        if (failure !== null) throw failure;
        if (durable) fdatasyncSync(this.core.file.fd);
        this.core.afterWrite(key);
        return head;
      } finally {
        this.core.lock.release();
      }
    } catch (error) {
      throw this.core.explain(error);
    }
  }

  /**
   * Writes one record the library itself appends (a seal, a prune record) and syncs it, under the lock,
   * after what is buffered or queued.
   */
  appendRecordSync(type: RecordType, dataJson: string, key: SigningKey | null): Head {
    this.flushSync();
    this.core.lock.acquire();
    try {
      this.core.catchUp(key);
      const record = this.core.chain.next(dataJson, type, key);
      this.core.file.writeAll(Buffer.from(record.line));
      fdatasyncSync(this.core.file.fd);
      return record.head;
    } catch (error) {
      throw this.core.explain(error);
    } finally {
      this.core.lock.release();
    }
  }

  /** Catches up with the file under the lock (open() reads the head and recovers the tail this way). */
  catchUp(key: SigningKey | null): Promise<void> {
    return this.queue.critical(key, () => undefined);
  }

  /** Writes what is buffered and queued, and waits for every fdatasync started. */
  async flush(): Promise<void> {
    if (this.session.holding) this.session.end();
    await this.queue.drained();
    await this.session.syncing;
  }

  /** Writes what is buffered and queued now, on this thread (waiting for the lock if another process holds it). */
  flushSync(): void {
    if (this.session.holding) this.session.endSync();
    this.queue.writeNowSync(true);
  }

  /** At exit: what was acknowledged is written; queued appends go only if the lock is free. */
  writeOnExit(): void {
    try {
      if (this.session.holding) this.session.endSync();
      this.queue.writeNowSync(false);
    } catch {
      // The process is going: a failure here was reported to no one, and the next open recovers.
    }
  }

  /** Signs a checkpoint of the records written so far and appends it (the log keeps checkpoints). */
  async checkpoint(key: SigningKey | null): Promise<Checkpoint> {
    const checkpointer = this.core.checkpointer!;
    await this.flush();
    let made: Checkpoint | null = null;
    await this.queue.critical(key, () => {
      made = checkpointer.make(this.core, key);
    });
    return made!;
  }

  /** Seals the active segment now and starts the next (directory logs). */
  async rotate(key: SigningKey | null): Promise<void> {
    const directory = this.core.directory!;
    await this.flush();
    await this.queue.critical(key, () => directory.rotate(this.core, key));
  }

  /** One handle fewer; the file closes with the last. */
  release(target: Target): void {
    this.#handles -= 1;
    if (this.core.directory === null) this.core.file.removePath(target);
    if (this.#handles > 0) return;
    open.delete(this.#id);
    this.core.file.close();
    this.core.directory?.close();
  }
}
