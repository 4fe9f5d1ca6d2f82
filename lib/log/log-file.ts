// The log's open file: opened once with O_APPEND, written whole, and checked to still be at its path.
import { type Stats, closeSync, constants, fdatasync, fstatSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';

import { type Target } from '../paths';
import { logReplacedError, notARegularFileError } from './errors';
import type { RecordBuffer, StagedRecords } from './record-buffer';

const datasync = promisify(fdatasync);

/**
 * A write that failed part-way: `written` bytes reached the file before `cause`. `hashes` are those of
 * the records the write encoded from their data (RecordBuffer.startWrite's staged records).
 */
export class WriteFailure extends Error {
  constructor(
    readonly written: number,
    override readonly cause: unknown,
    readonly hashes = '',
  ) {
    super((cause as Error).message);
    this.name = 'WriteFailure';
  }
}

/**
 * The path made absolute when the log is opened, so that a later process.chdir() cannot make it name
 * another file. A Buffer keeps its bytes (a name that is not UTF-8 must reach the kernel unchanged).
 */
export function resolveTarget(target: Target): Target {
  if (typeof target.bytes === 'string') {
    const text = resolve(target.bytes);
    return { bytes: text, text };
  }
  if (target.bytes[0] === 0x2f /* / */ || isAbsolute(target.text)) return target;
  const bytes = Buffer.concat([Buffer.from(`${process.cwd()}/`), target.bytes]);
  return { bytes, text: bytes.toString() };
}

// O_APPEND: every write lands at the end, whatever the offset. O_NOFOLLOW: never through a symlink.
// O_NONBLOCK: a FIFO in the log's place cannot hang the open; a regular file ignores it. O_EXCL first,
// so that the log knows whether it created the file (and removes it if open() then fails).
const FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function openOrCreate(path: string | Buffer): { fd: number; created: boolean } {
  for (;;) {
    try {
      return { fd: openSync(path, FLAGS | constants.O_CREAT | constants.O_EXCL, 0o640), created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      return { fd: openSync(path, FLAGS), created: false };
    } catch (error) {
      // Removed between the two opens: create it after all.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

export class LogFile {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** The file's size after the last write this process knows of; -1 when it must be read again. */
  end = -1;
  /**
   * Told of every write: the bytes of one that succeeded, the records about to be written (a failure
   * follows if they are not), or that one failed. The Merkle tree follows them.
   */
  observer: { written(bytes: Buffer): void; writing(records: RecordBuffer): void; failed(): void } | null = null;
  /** The paths this file was opened by (several handles may share it); each must still name it. */
  readonly #targets = new Map<string, { target: Target; handles: number }>();
  #closed = false;
  #syncs = 0;
  /** The bytes startRecords() counted in `end` before the write was settled. */
  #startedBytes = 0;

  private constructor(
    fd: number,
    stats: Stats,
    /** The path it was opened by. */
    readonly target: Target,
  ) {
    this.fd = fd;
    this.dev = stats.dev;
    this.ino = stats.ino;
  }

  /** Opens (creating with mode 0o640) the file at `target`, which must be absolute. */
  static open(target: Target): { file: LogFile; created: boolean } {
    const { fd, created } = openOrCreate(target.bytes);
    let stats: Stats;
    try {
      stats = fstatSync(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (!stats.isFile()) {
      closeSync(fd);
      throw notARegularFileError(target.text, stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device');
    }
    const file = new LogFile(fd, stats, target);
    file.addPath(target);
    return { file, created };
  }

  addPath(target: Target): void {
    const entry = this.#targets.get(target.text);
    if (entry === undefined) this.#targets.set(target.text, { target, handles: 1 });
    else entry.handles += 1;
  }

  removePath(target: Target): void {
    const entry = this.#targets.get(target.text);
    if (entry !== undefined && --entry.handles === 0) this.#targets.delete(target.text);
  }

  /**
   * Records appended to a file that was deleted, or whose path now names another file (or a symlink),
   * would be lost to every reader of the path: refuse instead. `stats` is the open file's fstat.
   */
  checkStillThere(stats: Stats): void {
    for (const { target } of this.#targets.values()) {
      let current: Stats | null = null;
      try {
        current = lstatSync(target.bytes);
      } catch {
        // missing: reported below
      }
      if (current !== null && current.ino === stats.ino && current.dev === stats.dev) continue;
      // No link left means deleted; otherwise the path was moved away or now names another file.
      throw logReplacedError(target.text, current === null && stats.nlink === 0 ? 'deleted' : 'renamed or replaced');
    }
  }

  /** Writes all of `bytes` (looping over short writes); a failure part-way is a WriteFailure. */
  writeAll(bytes: Buffer): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (error) {
      // The bytes that reached the file are torn unless they end a record: the next catch-up reads them.
      this.end = -1;
      this.observer?.failed();
      throw new WriteFailure(done, error);
    }
    this.end += bytes.length;
    this.observer?.written(bytes);
  }

  /**
   * Starts writing the records pending in `records`, and the `staged` ones after them; settleRecords()
   * waits for it. Staged records are not folded into the Merkle tree: a log keeping one never stages.
   */
  startRecords(records: RecordBuffer, staged?: StagedRecords): void {
    const bytes = records.bytes;
    this.observer?.writing(records);
    records.startWrite(this.fd, staged);
    // Known now (the size of a segment decides its rotation); the staged records' once settled.
    this.end += bytes;
    this.#startedBytes = bytes;
  }

  /**
   * Waits for the write startRecords() began; returns the staged records' hashes (64 hex digits each,
   * back to back). A failure part-way is a WriteFailure.
   */
  settleRecords(records: RecordBuffer): string {
    try {
      const hashes = records.settle();
      this.end += records.lastWriteBytes - this.#startedBytes;
      return hashes;
    } catch (error) {
      this.end = -1;
      this.observer?.failed();
      throw error;
    }
  }

  /** Removes the file at `target` if it is still this file and still empty (open() failed after creating it). */
  removeIfUnused(target: Target): void {
    try {
      const stats = fstatSync(this.fd);
      const current = lstatSync(target.bytes);
      if (stats.size === 0 && current.ino === this.ino && current.dev === this.dev) unlinkSync(target.bytes);
    } catch {
      // Leaving an empty file behind is the worst that can happen here.
    }
  }

  /**
   * Reserves an fdatasync to run later, without leaving the event loop: the descriptor stays open until
   * every sync reserved has run, even when the file is closed meanwhile (a rotation moved on). A sync
   * on a closed, or by then reused, descriptor would fail an append whose record is written, or sync
   * another file.
   */
  reserveSync(): () => Promise<void> {
    this.#syncs += 1;
    return async () => {
      try {
        await datasync(this.fd);
      } finally {
        this.#syncs -= 1;
        if (this.#closed && this.#syncs === 0) closeSync(this.fd);
      }
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#syncs === 0) closeSync(this.fd);
  }
}
