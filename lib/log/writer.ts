// AppendOnlyLog: appends hash-chained records to a JSON Lines file opened with O_APPEND.
//
// Appends run in sessions. The first append of an event-loop turn takes the flock without waiting and
// catches up with what other processes wrote (recovering torn bytes a crash left); every append until
// the turn ends is chained and buffered, written at BUFFER_BYTES or when the turn ends, and the lock is
// released then. So an awaited append costs no write and no native call of its own, and memory stays
// bounded however fast appends come. Durability (fdatasync) comes after the lock is released: one flush
// covers the whole session (group commit). When another process holds the lock, appends queue and
// retry; appendSync() joins a session this process holds, or waits for the lock.
import { type Stats, closeSync, constants, fdatasync, fdatasyncSync, fstatSync, lstatSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

import { protectAppendOnlySync } from '../attributes';
import { type PathLike, toTarget } from '../paths';
import { explainLogFailure, logClosedError, logReplacedError, lostRecordsError, notALogError, notARegularFileError } from './errors';
import { GENESIS, type Head, KEY_ID_PATTERN, type RecordType, type SigningKey, encodeRecord, sha256Hex } from './format';
import type { RecoveryData } from './junk';
import { type FileLock, lockFor } from './lock';
import { serializeData } from './serialize';
import { NotALogError, readAt, readTail } from './tail';

export interface LogKey {
  /** Stored in every record it signs: letters, digits and . _ : - (1 to 64). */
  id: string;
  /** At least 16 bytes; 32 random bytes is right. */
  secret: string | Buffer;
}

export interface OpenOptions {
  /** Set the OS append-only flag: true warns if it cannot, 'required' throws. Default: FS_APPEND_ONLY_PROTECT. */
  protect?: boolean | 'required';
  /** Sign every record with HMAC-SHA256. */
  key?: LogKey;
  /** 'sync' (default): append() resolves once the record is on disk. 'none': the OS flushes when it likes. */
  durability?: 'sync' | 'none';
}

interface Pending {
  dataJson: string;
  key: SigningKey | null;
  resolve(head: Head): void;
  reject(error: unknown): void;
}

interface Waiter {
  head: Head;
  /** Its line reached the file; it still waits for fdatasync. */
  written: boolean;
  resolve(head: Head): void;
  reject(error: unknown): void;
}

const datasync = promisify(fdatasync);
const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Closes torn bytes: a record line always ends with "}", so a line ending with "~" never parses as one. */
const TERMINATOR = '~\n';

/** Buffered records are written once they reach this much: the bound on memory for fast producers. */
const BUFFER_BYTES = 64 * 1024;

/** Queued appends (while another process holds the lock) are written this many bytes at a time. */
const BATCH_BYTES = 1024 * 1024;

/** With 'sync', a session that holds this many unresolved appends flushes and syncs in line. */
const MAX_WAITERS = 8192;

// toISOString() costs more than the rest of a record's bookkeeping: reuse it within a millisecond.
let lastMillisecond = 0;
let lastTimestamp = '';
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastTimestamp = new Date(now).toISOString();
  }
  return lastTimestamp;
}

function toSigningKey(key: unknown, name: string): SigningKey {
  if (key === null || typeof key !== 'object') throw new TypeError(`The "${name}" option must be an object { id, secret }`);
  const { id, secret } = key as Record<string, unknown>;
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
    throw new TypeError(`The "${name}.id" option must be 1 to 64 letters, digits or . _ : -`);
  }
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) {
    throw new TypeError(`The "${name}.secret" option must be a string or a Buffer`);
  }
  const bytes = Buffer.from(secret);
  if (bytes.length < 16) throw new RangeError(`The "${name}.secret" option must hold at least 16 bytes; 32 random bytes is right`);
  return { id, secret: bytes };
}

function protectFromEnvironment(): boolean {
  const value = process.env.FS_APPEND_ONLY_PROTECT?.toLowerCase();
  return value === '1' || value === 'true';
}

interface ParsedOptions {
  protect: boolean | 'required';
  key: SigningKey | null;
  durable: boolean;
}

function parseOptions(options: unknown): ParsedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be of type object');
  const { protect = protectFromEnvironment(), key, durability = 'sync' } = options as Record<string, unknown>;
  if (protect !== true && protect !== false && protect !== 'required') {
    throw new TypeError(`The "protect" option must be true, false or 'required'`);
  }
  if (durability !== 'sync' && durability !== 'none') throw new TypeError(`The "durability" option must be 'sync' or 'none'`);
  return { protect, key: key === undefined ? null : toSigningKey(key, 'key'), durable: durability === 'sync' };
}

// O_APPEND: every write lands at the end, whatever the offset. O_NOFOLLOW: never through a symlink.
// O_NONBLOCK: a FIFO in the log's place cannot hang the open; a regular file ignores it.
function openLogFile(path: string): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o640);
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw notARegularFileError(path, stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device');
  }
  return fd;
}

export class AppendOnlyLog {
  readonly path: string;
  #fd: number;
  #lock: FileLock;
  #key: SigningKey | null;
  readonly #durable: boolean;
  #head: Head | null = null;
  /** The file's size after the last write this process knows of; -1 after a failed write. */
  #end = -1;
  /** True while this process holds the lock for a session. */
  #holding = false;
  /** Encoded lines of the session, not written yet. */
  #buffer: string[] = [];
  #bufferBytes = 0;
  /** The seq of the buffer's first record. */
  #bufferFirstSeq = 0;
  /** 'sync': the session's appends waiting for their write and fdatasync. */
  #waiters: Waiter[] = [];
  /** 'none': a write failed after its appends had resolved; the next call reports it. */
  #lost: unknown = null;
  /** Appends waiting for another process to release the lock. */
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #syncing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(path: string, fd: number, options: ParsedOptions) {
    this.path = path;
    this.#fd = fd;
    this.#lock = lockFor(fd, path);
    this.#key = options.key;
    this.#durable = options.durable;
  }

  /** Opens (creating with mode 0o640) or resumes a log, reading only its tail. */
  static async open(path: PathLike, options: OpenOptions = {}): Promise<AppendOnlyLog> {
    const { text } = toTarget(path);
    const parsed = parseOptions(options);
    let fd: number;
    try {
      fd = openLogFile(text);
    } catch (error) {
      throw explainLogFailure(error, text);
    }
    const log = new AppendOnlyLog(text, fd, parsed);
    try {
      // Catching up reads the tail and closes any torn bytes with a recovery record.
      await log.#critical(() => undefined);
      if (parsed.protect !== false) log.#protect(parsed.protect === 'required');
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return log;
  }

  /** The last record this process wrote or saw: { seq, hash }, or null for an empty log. */
  get head(): Head | null {
    return this.#head === null ? null : { ...this.#head };
  }

  /** Signs the records appended from now on with this key (the earlier ones keep theirs). */
  rotateKey(key: LogKey): void {
    this.#key = toSigningKey(key, 'key');
  }

  /**
   * Appends one JSON-serializable value and resolves with the record's { seq, hash }: with 'sync' once it
   * is on disk, with 'none' once it is chained and buffered (written when this event-loop turn ends).
   */
  append(data: unknown): Promise<Head> {
    if (this.#closed) return Promise.reject(logClosedError(this.path));
    if (this.#lost !== null) return Promise.reject(this.#takeLost());
    let dataJson: string;
    try {
      dataJson = serializeData(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = this.#key;
    // Queued appends go first, so that order is kept while another process holds the lock.
    if (this.#queue.length === 0) {
      try {
        if (this.#enterSession()) return this.#appendInSession(dataJson, key);
      } catch (error) {
        return Promise.reject(explainLogFailure(error, this.path));
      }
    }
    return new Promise<Head>((resolve, reject) => {
      this.#queue.push({ dataJson, key, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  /** Appends one record and writes it before returning, blocking the thread if it must wait (for exit handlers). */
  appendSync(data: unknown): Head {
    if (this.#closed) throw logClosedError(this.path);
    if (this.#lost !== null) throw this.#takeLost();
    const dataJson = serializeData(data);
    try {
      if (this.#holding) {
        const [record] = this.#encode([{ dataJson, key: this.#key }], 'data');
        if (this.#buffer.length === 0) this.#bufferFirstSeq = record!.head.seq;
        this.#buffer.push(record!.text);
        this.#head = record!.head;
        const failure = this.#writeBufferInSession();
        if (failure !== null) throw failure;
        if (this.#durable) fdatasyncSync(this.#fd);
        return record!.head;
      }
      this.#lock.acquire();
      try {
        this.#catchUp();
        const [head] = this.#writeBatch([{ dataJson, key: this.#key }]);
        if (this.#durable) fdatasyncSync(this.#fd);
        return head!;
      } finally {
        this.#lock.release();
      }
    } catch (error) {
      throw explainLogFailure(error, this.path);
    }
  }

  /** Writes what is buffered, and with 'sync' waits until it is on disk. */
  async flush(): Promise<void> {
    if (this.#holding) this.#endSession();
    while (this.#flushing !== null) await this.#flushing;
    await this.#syncing;
    if (this.#lost !== null) throw this.#takeLost();
  }

  /** Writes what is pending, then closes the file. Appends after this reject with ERR_LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#holding) this.#endSession();
      while (this.#flushing !== null) await this.#flushing;
      await this.#syncing;
    } finally {
      closeSync(this.#fd);
    }
    if (this.#lost !== null) throw this.#takeLost();
  }

  // ---- Sessions ----

  // Takes the lock without waiting, catching up once; false when another process holds it.
  #enterSession(): boolean {
    if (this.#holding) return true;
    if (!this.#lock.tryAcquire()) return false;
    this.#holding = true;
    try {
      this.#catchUp();
    } catch (error) {
      this.#holding = false;
      this.#lock.release();
      throw error;
    }
    setImmediate(() => {
      if (this.#holding) this.#endSession();
    });
    return true;
  }

  #appendInSession(dataJson: string, key: SigningKey | null): Promise<Head> {
    const seq = (this.#head?.seq ?? 0) + 1;
    const prev = this.#head?.hash ?? GENESIS;
    const { line, hash } = encodeRecord({ seq, ts: timestamp(), prev, type: 'data', keyId: key?.id ?? null, dataJson }, key);
    const head = { seq, hash };
    this.#head = head;
    if (this.#buffer.length === 0) this.#bufferFirstSeq = seq;
    this.#buffer.push(line);
    this.#bufferBytes += line.length;
    let result: Promise<Head>;
    if (this.#durable) {
      result = new Promise<Head>((resolve, reject) => this.#waiters.push({ head, written: false, resolve, reject }));
    } else {
      result = Promise.resolve(head);
    }
    if (this.#bufferBytes >= BUFFER_BYTES) this.#writeBufferInSession();
    if (this.#waiters.length >= MAX_WAITERS) this.#syncInLine();
    return result;
  }

  // Writes the buffer; a failure reports the appends it held and re-reads the tail, still under the lock,
  // so the chain goes on from what the file holds. Returns the failure, or null.
  #writeBufferInSession(): unknown {
    try {
      this.#writeBuffer();
      for (const waiter of this.#waiters) waiter.written = true;
      return null;
    } catch (error) {
      const explained = explainLogFailure(error, this.path);
      const unwritten = this.#waiters.filter((waiter) => !waiter.written);
      this.#waiters = this.#waiters.filter((waiter) => waiter.written);
      for (const waiter of unwritten) waiter.reject(explained);
      if (!this.#durable) this.#lost = lostRecordsError(error, this.#bufferFirstSeq, this.#head?.seq ?? 0, this.path);
      try {
        this.#catchUp();
      } catch {
        // reported by the next append
      }
      return explained;
    }
  }

  // 'sync' with more appends in flight than MAX_WAITERS: write and sync now, so memory stays bounded.
  #syncInLine(): void {
    this.#writeBufferInSession();
    try {
      fdatasyncSync(this.#fd);
      for (const waiter of this.#waiters.splice(0)) waiter.resolve(waiter.head);
    } catch (error) {
      const explained = explainLogFailure(error, this.path);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(explained);
    }
  }

  #endSession(): void {
    this.#writeBufferInSession();
    this.#holding = false;
    this.#lock.release();
    const waiters = this.#waiters.splice(0);
    if (waiters.length > 0) {
      const previous = this.#syncing;
      this.#syncing = previous.then(() =>
        datasync(this.#fd).then(
          () => waiters.forEach((waiter) => waiter.resolve(waiter.head)),
          (error: unknown) => {
            const explained = explainLogFailure(error, this.path);
            waiters.forEach((waiter) => waiter.reject(explained));
          },
        ),
      );
    }
    if (this.#queue.length > 0) this.#flushing ??= this.#flushLoop();
  }

  #writeBuffer(): void {
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.length === 1 ? this.#buffer[0]! : this.#buffer.join('');
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#writeAll(Buffer.from(text));
  }

  #takeLost(): unknown {
    const lost = this.#lost;
    this.#lost = null;
    return lost;
  }

  // ---- Appends queued while another process holds the lock ----

  async #flushLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      let heads: Head[] = [];
      try {
        await this.#critical(() => {
          heads = this.#writeBatch(batch);
        });
        if (this.#durable) await datasync(this.#fd);
      } catch (error) {
        const explained = explainLogFailure(error, this.path);
        for (const pending of batch) pending.reject(explained);
        continue;
      }
      batch.forEach((pending, index) => pending.resolve(heads[index]!));
    }
    this.#flushing = null;
  }

  #takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#queue.length && (count === 0 || bytes < BATCH_BYTES)) {
      bytes += this.#queue[count]!.dataJson.length + 200;
      count += 1;
    }
    return this.#queue.splice(0, count);
  }

  // Takes the lock without waiting and runs `section` in the same synchronous call, so that nothing
  // else in this process can run between the two; waits and tries again while another process (or a
  // session of this one) holds it.
  async #critical(section: () => void): Promise<void> {
    for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
      if (!this.#holding && this.#lock.tryAcquire()) {
        try {
          this.#catchUp();
          section();
          return;
        } finally {
          this.#lock.release();
        }
      }
      await sleep(delay);
    }
  }

  // Under the lock: if the file is not as this process left it, read the tail again; torn bytes
  // there (a crash, here or in another process) get terminated and recorded in the chain.
  #catchUp(): void {
    const stats = fstatSync(this.#fd);
    this.#checkStillThere(stats);
    const size = stats.size;
    if (size === this.#end) return;
    let tail;
    try {
      tail = readTail(this.#fd, size);
    } catch (error) {
      if (error instanceof NotALogError) throw notALogError(this.path, error.reason);
      throw error;
    }
    this.#head = tail.head;
    this.#end = tail.headEnd;
    if (tail.headEnd < size) this.#recover(tail.headEnd, size);
  }

  // Records appended to a file that was deleted, or whose path now names another file (or a symlink),
  // would be lost to every reader of the path: refuse instead. (A path naming this inode has a link.)
  #checkStillThere(stats: Stats): void {
    let current: Stats | null = null;
    try {
      current = lstatSync(this.path);
    } catch {
      // missing: reported below
    }
    if (current === null) throw logReplacedError(this.path, 'deleted');
    if (current.ino !== stats.ino || current.dev !== stats.dev) throw logReplacedError(this.path, 'replaced');
  }

  #recover(from: number, size: number): void {
    const torn = readAt(this.#fd, from, size - from);
    // "~" first: torn bytes that happen to be a whole record but its newline must not become one.
    const terminator = torn[torn.length - 1] === 0x0a ? Buffer.alloc(0) : Buffer.from(TERMINATOR);
    const closed = Buffer.concat([torn, terminator]);
    const data: RecoveryData = { reason: 'torn-tail', offset: from, length: closed.length, sha256: sha256Hex(closed) };
    this.#end = size;
    // The terminator and the recovery record go out in one write.
    const [record] = this.#encode([{ dataJson: JSON.stringify(data), key: this.#key }], 'recovery');
    this.#writeAll(Buffer.concat([terminator, Buffer.from(record!.text)]));
    this.#head = record!.head;
  }

  // Under the lock, after #catchUp().
  #writeBatch(batch: { dataJson: string; key: SigningKey | null }[]): Head[] {
    const records = this.#encode(batch, 'data');
    this.#writeAll(Buffer.from(records.map((record) => record.text).join('')));
    this.#head = records[records.length - 1]!.head;
    return records.map((record) => record.head);
  }

  #encode(batch: { dataJson: string; key: SigningKey | null }[], type: RecordType): { text: string; head: Head }[] {
    let seq = this.#head?.seq ?? 0;
    let prev = this.#head?.hash ?? GENESIS;
    const ts = timestamp();
    return batch.map(({ dataJson, key }) => {
      seq += 1;
      const { line, hash } = encodeRecord({ seq, ts, prev, type, keyId: key?.id ?? null, dataJson }, key);
      prev = hash;
      return { text: line, head: { seq, hash } };
    });
  }

  // Loops over short writes. A failure part-way leaves torn bytes: the next critical section sees the
  // size it did not expect and recovers them.
  #writeAll(bytes: Buffer): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    } catch (error) {
      this.#end = -1;
      throw error;
    }
    this.#end += bytes.length;
  }

  #protect(required: boolean): void {
    try {
      protectAppendOnlySync(this.path, { strict: required });
    } catch (error) {
      if (required) throw error;
      process.emitWarning(`fs-append-only: ${this.path} is not protected by the OS: ${(error as Error).message}`, {
        code: 'FS_APPEND_ONLY_UNPROTECTED',
      });
    }
  }
}
