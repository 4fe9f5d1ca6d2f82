// AppendOnlyLog: appends hash-chained records to a JSON Lines file opened with O_APPEND.
//
// Every write happens inside one synchronous critical section: take the flock, catch up with what other
// processes wrote (recovering torn bytes a crash left), encode the batch onto the chain, write it, let
// go. Because the section never spans an await, appendSync() can never interleave with it. Durability
// (fdatasync) comes after the lock is released, so one flush covers every append that queued meanwhile.
import { type Stats, closeSync, constants, fdatasync, fdatasyncSync, fstatSync, lstatSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

import { protectAppendOnlySync } from '../attributes';
import { type PathLike, toTarget } from '../paths';
import { explainLogFailure, logClosedError, logReplacedError, notALogError, notARegularFileError } from './errors';
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

const datasync = promisify(fdatasync);
const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Closes torn bytes: a record line always ends with "}", so a line ending with "~" never parses as one. */
const TERMINATOR = '~\n';

/** One write holds at most this much, so the lock is held briefly and memory stays bounded. */
const BATCH_BYTES = 1024 * 1024;

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
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
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

  /** Appends one JSON-serializable value. Resolves with the record's { seq, hash } once it is written (durable with 'sync'). */
  append(data: unknown): Promise<Head> {
    if (this.#closed) return Promise.reject(logClosedError(this.path));
    let dataJson: string;
    try {
      dataJson = serializeData(data);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Head>((resolve, reject) => {
      this.#queue.push({ dataJson, key: this.#key, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  /** Appends one record before returning, blocking the thread (for exit handlers). */
  appendSync(data: unknown): Head {
    if (this.#closed) throw logClosedError(this.path);
    const dataJson = serializeData(data);
    this.#lock.acquire();
    let heads: Head[];
    try {
      this.#catchUp();
      heads = this.#writeBatch([{ dataJson, key: this.#key }]);
    } catch (error) {
      throw explainLogFailure(error, this.path);
    } finally {
      this.#lock.release();
    }
    if (this.#durable) fdatasyncSync(this.#fd);
    return heads[0]!;
  }

  /** Waits for every pending append, then closes the file. Appends after this reject with ERR_LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing !== null) await this.#flushing;
    closeSync(this.#fd);
  }

  async #flushLoop(): Promise<void> {
    // Let every append() issued in this tick join the first batch.
    await new Promise<void>((next) => setImmediate(next));
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
  // else in this process can run between the two; waits and tries again while another process holds it.
  async #critical(section: () => void): Promise<void> {
    for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
      if (this.#lock.tryAcquire()) {
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
    const ts = new Date().toISOString();
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
