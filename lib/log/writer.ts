// AppendOnlyLog: the public writer of a hash-chained JSON Lines log, a thin handle on the shared writer.
import { closeSync, constants, fstatSync, lstatSync, openSync, rmdirSync } from 'node:fs';

import { protectFileDescriptorSync } from '../attributes';
import { type PathLike, type Target, toTarget } from '../paths';
import type { Owner } from './batch';
import type { Checkpoint } from './checkpoints';
import { explainLogFailure, keyMismatchError, logClosedError, lostRecordsError, noCheckpointsError, notADirectoryLogError } from './errors';
import { type Head, type ParsedLine, type SigningKey, signatureMatches } from './format';
import { resolveTarget } from './log-file';
import { type LogKey, type OpenOptions, type ParsedOptions, parseOpenOptions, toSigningKey } from './options';
import { serializeData } from './serialize';
import { listSegments } from './segments';
import { SharedLog } from './shared';
import { findLastSigned } from './tail';
import { segmentTarget } from './directory';

export type { CheckpointOptions, LogKey, OpenOptions, RotateOptions } from './options';
export type { Checkpoint } from './checkpoints';

/**
 * A file log, an existing directory log, or a directory log to create (a missing path with `rotate`).
 * A directory without segments becomes a log only when `rotate` asks for one: opening some other
 * directory by mistake stays EISDIR.
 */
function logKind(target: Target, rotating: boolean): 'file' | 'directory' | 'new-directory' {
  let stats;
  try {
    stats = lstatSync(target.bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return rotating ? 'new-directory' : 'file';
  }
  if (stats.isDirectory()) return rotating || listSegments(target.bytes).length > 0 ? 'directory' : 'file';
  if (rotating && stats.isFile()) throw notADirectoryLogError(target.text);
  return 'file';
}

/** open() failed after creating the log: remove what it created, if nothing else wrote to it. */
function removeCreated(shared: SharedLog, target: Target): void {
  const directory = shared.core.directory;
  if (directory === null) return shared.core.file.removeIfUnused(target);
  shared.core.file.removeIfUnused(directory.activeTarget);
  try {
    rmdirSync(target.bytes);
  } catch {
    // not empty, or flagged: left as it is
  }
}

export class AppendOnlyLog {
  /** The log's absolute path (resolved when it was opened). */
  readonly path: string;
  readonly #target: Target;
  readonly #shared: SharedLog;
  readonly #durable: boolean;
  #key: SigningKey | null;
  #closed = false;
  /** durability 'none': records acknowledged, then lost when their write failed; the next call reports them. */
  #lost: { seqs: number[]; cause: unknown } | null = null;
  readonly #owner: Owner = {
    noteLost: (seq, cause) => {
      this.#lost ??= { seqs: [], cause };
      this.#lost.seqs.push(seq);
    },
  };

  private constructor(target: Target, shared: SharedLog, options: ParsedOptions) {
    this.path = target.text;
    this.#target = target;
    this.#shared = shared;
    this.#durable = options.durable;
    this.#key = options.key;
  }

  /** Opens (creating with mode 0o640) or resumes a log, reading only its tail. */
  static async open(path: PathLike, options: OpenOptions = {}): Promise<AppendOnlyLog> {
    const target = resolveTarget(toTarget(path));
    const parsed = parseOpenOptions(options);
    let shared: SharedLog;
    let created: boolean;
    try {
      const kind = logKind(target, parsed.rotate !== null);
      ({ log: shared, created } =
        kind === 'file' ? SharedLog.acquire(target) : SharedLog.acquireDirectory(target, kind === 'new-directory', parsed.rotate));
    } catch (error) {
      throw explainLogFailure(error, target.text);
    }
    const log = new AppendOnlyLog(target, shared, parsed);
    try {
      // Before anything is written: a recovery record signed with the wrong secret would be one too many.
      log.#checkKey();
      if (parsed.checkpoints !== null) shared.core.keepCheckpoints(parsed.checkpoints);
      // Catching up reads the tail and closes any bytes after the last record with a recovery record.
      await shared.catchUp(parsed.key);
      if (parsed.protect !== false) log.#protect(parsed.protect === 'required');
    } catch (error) {
      if (created) removeCreated(shared, target);
      shared.release(target);
      throw explainLogFailure(error, target.text);
    }
    return log;
  }

  /**
   * Signs a checkpoint of the records written so far (their RFC 6962 tree: size and root) and appends
   * it as a record of type "checkpoint"; resolves with { note, size, root }. Needs the `checkpoints`
   * option.
   */
  async checkpoint(): Promise<Checkpoint> {
    const refused = this.#refusal();
    if (refused !== null) throw refused;
    if (this.#shared.core.checkpointer === null) throw noCheckpointsError(this.path);
    try {
      return await this.#shared.checkpoint(this.#key);
    } catch (error) {
      throw explainLogFailure(error, this.path);
    }
  }

  /** Seals the active segment now and starts the next (a directory log; ENOTDIR for a single file). */
  async rotate(): Promise<void> {
    const refused = this.#refusal();
    if (refused !== null) throw refused;
    if (this.#shared.core.directory === null) throw notADirectoryLogError(this.path);
    try {
      await this.#shared.rotate(this.#key);
    } catch (error) {
      throw explainLogFailure(error, this.path);
    }
  }

  /** The last record this process wrote or saw: { seq, hash }, or null for an empty log. */
  get head(): Head | null {
    const head = this.#shared.head;
    return head === null ? null : { ...head };
  }

  /** Signs the records appended from now on with this key (the earlier ones keep theirs). */
  rotateKey(key: LogKey): void {
    this.#key = toSigningKey(key, 'key');
  }

  /**
   * Appends one JSON-serializable value and resolves with the record's { seq, hash }: with 'sync' once it
   * is on disk, with 'none' once it is chained and buffered (written when this event-loop turn ends, or
   * at exit).
   */
  append(data: unknown): Promise<Head> {
    const refused = this.#refusal();
    if (refused !== null) return Promise.reject(refused);
    let dataJson: string;
    try {
      dataJson = serializeData(data);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#shared.append(this.#owner, this.#durable, dataJson, this.#key);
  }

  /** Appends one record and writes it before returning, blocking the thread if it must wait (for exit handlers). */
  appendSync(data: unknown): Head {
    const refused = this.#refusal();
    if (refused !== null) throw refused;
    return this.#shared.appendSync(this.#owner, this.#durable, serializeData(data), this.#key);
  }

  /** Writes what is buffered, and with 'sync' waits until it is on disk. */
  async flush(): Promise<void> {
    await this.#shared.flush();
    if (this.#lost !== null) throw this.#takeLost();
  }

  /**
   * Writes what is buffered or queued before returning, blocking the thread if another process holds
   * the lock: for signal handlers, which cannot wait for a promise before process.exit().
   */
  flushSync(): void {
    if (this.#closed) throw logClosedError(this.path);
    this.#shared.flushSync();
    if (this.#lost !== null) throw this.#takeLost();
  }

  /** Writes what is pending, then closes the file. Appends after this reject with ERR_LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#shared.flush();
    } finally {
      this.#shared.release(this.#target);
    }
    if (this.#lost !== null) throw this.#takeLost();
  }

  #refusal(): unknown {
    if (this.#closed) return logClosedError(this.path);
    if (this.#lost !== null) return this.#takeLost();
    return null;
  }

  #takeLost(): unknown {
    const { seqs, cause } = this.#lost!;
    this.#lost = null;
    return lostRecordsError(cause, seqs, this.path);
  }

  // A secret that does not verify the last record its key id signed would sign every later record
  // with a key no verifier holds: refuse it, before anything is written. The last signed record is
  // looked for in the last few MiB of the file (or, for a directory log, of its last two segments); one
  // signed by another id is a rotation, and fine. A signed log reopened without a key: say so once.
  #checkKey(): void {
    // Without a key only the warning is at stake: the last record tells, and an unsigned log costs no search.
    const line = this.#lastSigned(this.#key === null ? 64 * 1024 : undefined);
    if (line === null || line.keyId === null) return;
    const key = this.#key;
    if (key === null) {
      process.emitWarning(
        `fs-append-only: ${this.path} is signed (its last signed record by key "${line.keyId}"), and it was opened without a key: ` +
          'the records appended now are unsigned, and verifyLog with keys will report them. Pass the key to AppendOnlyLog.open().',
        { code: 'FS_APPEND_ONLY_UNSIGNED' },
      );
      return;
    }
    if (line.keyId === key.id && !signatureMatches(line, key.secret)) throw keyMismatchError(this.path, key.id, line.seq);
  }

  #lastSigned(window?: number): ParsedLine | null {
    const directory = this.#shared.core.directory;
    const files = directory === null ? [this.#shared.core.file.target] : listSegments(directory.target.bytes).slice(-2).reverse().map((name) => segmentTarget(directory.target, name));
    for (const file of files) {
      let fd: number;
      try {
        fd = openSync(file.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch {
        continue; // catching up names what is wrong with it
      }
      try {
        const line = findLastSigned(fd, fstatSync(fd).size, window);
        if (line !== null) return line;
      } finally {
        closeSync(fd);
      }
    }
    return null;
  }

  #protect(required: boolean): void {
    const directory = this.#shared.core.directory;
    if (directory !== null) {
      directory.protect = true;
      directory.protectNow(required);
      return;
    }
    try {
      // Through the descriptor the log holds: the flag lands on the file being written, whatever the path names now.
      protectFileDescriptorSync(this.#shared.core.file.fd, this.#target.bytes, { strict: required });
    } catch (error) {
      if (required) throw error;
      process.emitWarning(`fs-append-only: ${this.path} is not protected by the OS: ${(error as Error).message}`, {
        code: 'FS_APPEND_ONLY_UNPROTECTED',
      });
    }
  }
}
