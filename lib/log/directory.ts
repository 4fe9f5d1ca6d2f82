// A directory log: one chain across segment files, the active one sealed and the next started in turn.
//
// Every writer of the directory takes one flock on the directory itself, so all of them share one chain
// and one rotation. Rotating is three steps, each safe to be killed after: (1) a seal record naming the
// next segment is appended to the active one; (2) the next segment is created; (3) the flags change
// (the new segment append-only, the sealed one immutable). A writer that finds its segment sealed, by
// another process or by a rotation cut short, follows the seal to the segment it names, creating it if
// it must, and sets the flags a cut-short rotation left undone. Nothing is ever renamed or deleted.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readSync } from 'node:fs';

import { isAppendOnlySync, protectAppendOnlySync, protectFileDescriptorSync, setImmutableSync } from '../attributes';
import type { Target } from '../paths';
import type { LogCore } from './core';
import { logSealedError, notALogError, notADirectoryLogError } from './errors';
import { GENESIS, type Head, type SigningKey, encodeRecord } from './format';
import { LogFile } from './log-file';
import { catchUp } from './recovery';
import type { RotationPolicy } from './rotation';
import { listSegments, sealedNext, segmentName } from './segments';
import { readTail } from './tail';

/**
 * The crash tests kill a writer between the steps of a rotation, as an OOM kill or a power cut would:
 * FS_APPEND_ONLY_TEST_KILL_AT=sealed|created|flagged. Read once; unset in any real deployment.
 */
const KILL_AT = process.env.FS_APPEND_ONLY_TEST_KILL_AT;
function killPoint(step: 'sealed' | 'created' | 'flagged'): void {
  if (KILL_AT === step) process.kill(process.pid, 'SIGKILL');
}

/** `dir/name` as the same kind of path the directory was given as (a Buffer keeps its bytes). */
export function segmentTarget(dir: Target, name: string): Target {
  if (typeof dir.bytes === 'string') {
    const text = `${dir.bytes}/${name}`;
    return { bytes: text, text };
  }
  const bytes = Buffer.concat([dir.bytes, Buffer.from(`/${name}`)]);
  return { bytes, text: bytes.toString() };
}

/** When the first record of a segment was written (its ts), or null for a segment with none. */
function firstRecordTime(fd: number): number | null {
  const start = Buffer.alloc(64);
  const read = readSync(fd, start, 0, start.length, 0);
  const match = /^\{"seq":\d+,"ts":"([^"]{24})"/.exec(start.toString('latin1', 0, read));
  return match === null ? null : Date.parse(match[1]!);
}

const sealSizes = new Map<string, number>();

/** The length of the seal record that would take `seq`, signed or not: the same for any timestamp and prev. */
function sealBytes(seq: number, key: SigningKey | null): number {
  const digits = String(seq).length;
  const cacheKey = `${digits}:${key?.id ?? ''}`;
  let bytes = sealSizes.get(cacheKey);
  if (bytes === undefined) {
    const dataJson = JSON.stringify({ next: segmentName(seq + 1) });
    const { line } = encodeRecord({ seq, ts: new Date(0).toISOString(), prev: GENESIS, type: 'seal', keyId: key?.id ?? null, dataJson }, key);
    bytes = Buffer.byteLength(line);
    sealSizes.set(cacheKey, bytes);
  }
  return bytes;
}

export class LogDirectory {
  readonly fd: number;
  readonly target: Target;
  /** The first opener's rotation; a later open with `rotate` sets it when there was none. */
  policy: RotationPolicy | null;
  /** Whether the flags are set as segments come and go (any handle asking is enough). */
  protect: boolean = false;
  /** The record before the active segment's first: the previous segment's seal. */
  #base: Head | null = null;
  /** When the active segment's first record was written, for rotation at UTC boundaries. */
  #since: number | null = null;
  #activeName: string;

  private constructor(fd: number, target: Target, policy: RotationPolicy | null, activeName: string) {
    this.fd = fd;
    this.target = target;
    this.policy = policy;
    this.#activeName = activeName;
  }

  /**
   * Opens the directory log at `target` (absolute; created when `create` and missing) and its active
   * segment: the last one, or the first of a new log.
   */
  static open(target: Target, create: boolean, policy: RotationPolicy | null): { directory: LogDirectory; file: LogFile; created: boolean } {
    let created = false;
    if (create) {
      try {
        mkdirSync(target.bytes, { mode: 0o750 });
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      if (!fstatSync(fd).isDirectory()) throw notADirectoryLogError(target.text);
      // The last segment may be sealed and made immutable by another writer between listing and
      // opening it: list again, the segment after it exists by then (or will, once that writer goes on).
      let names: string[] = [];
      let file: LogFile | null = null;
      for (let attempt = 0; file === null; attempt += 1) {
        names = listSegments(target.bytes);
        try {
          ({ file } = LogFile.open(segmentTarget(target, names[names.length - 1] ?? segmentName(1))));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if ((code !== 'EPERM' && code !== 'EACCES') || attempt >= 100) throw error;
        }
      }
      const activeName = names[names.length - 1] ?? segmentName(1);
      const directory = new LogDirectory(fd, target, policy, activeName);
      // A directory someone protected keeps being protected as segments come and go, whoever opens it.
      try {
        directory.protect = isAppendOnlySync(target.bytes);
      } catch {
        // no flags here: nothing to keep
      }
      // A segment with no record of its own continues from the previous segment's seal.
      if (names.length > 1) directory.#base = directory.#lastRecordOf(names[names.length - 2]!);
      return { directory, file, created };
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get activeName(): string {
    return this.#activeName;
  }

  get activeTarget(): Target {
    return segmentTarget(this.target, this.#activeName);
  }

  /**
   * Under the directory lock: continue from what the active segment holds, following seals (another
   * process rotated, or a rotation was cut short) to the segment that holds the head.
   */
  catchUp(core: LogCore, key: SigningKey | null): void {
    for (;;) {
      const tail = catchUp(core.file, core.chain, key, this.activeTarget.text, this.#base, core.treeKeeping);
      if (tail === null) return;
      if (tail.headLine?.type !== 'seal') {
        this.#since = firstRecordTime(core.file.fd);
        return;
      }
      const next = sealedNext(tail.headLine);
      if (next === null) throw logSealedError(this.target.text);
      if (next === undefined) throw notALogError(this.activeTarget.text, `its seal record at seq ${tail.headLine.seq} names no segment`);
      this.#moveTo(core, next, tail.head!);
    }
  }

  /**
   * Whether the active segment must be sealed before `adding` bytes (a record that will get `seq`) join
   * the `size` it holds (or will once written): counting the seal that must still follow it.
   */
  due(size: number, adding: number, now: number, seq: number, key: SigningKey | null): boolean {
    const policy = this.policy;
    if (policy === null || size === 0) return false;
    if (policy.maxBytes !== null && size + adding + sealBytes(seq + 1, key) > policy.maxBytes) return true;
    return policy.periodMs !== null && this.#since !== null && Math.floor(now / policy.periodMs) > Math.floor(this.#since / policy.periodMs);
  }

  /** A record is going into the active segment at `now`. */
  noteRecord(now: number): void {
    this.#since ??= now;
  }

  /** Under the lock, with nothing pending: seals the active segment and starts the next. */
  rotate(core: LogCore, key: SigningKey | null): void {
    const next = segmentName((core.chain.head?.seq ?? 0) + 2);
    const seal = core.chain.next(JSON.stringify({ next }), 'seal', key);
    core.file.writeAll(Buffer.from(seal.line));
    // What was written to the sealed segment must be on disk before 'sync' appends resolve; they wait
    // on the new segment's fdatasync, which does not cover it.
    fsyncSync(core.file.fd);
    killPoint('sealed');
    this.#moveTo(core, next, seal.head);
    killPoint('flagged');
    // The next segment may hold what a writer killed mid-rotation left: read it before writing to it.
    this.catchUp(core, key);
  }

  // Moves the active segment to `next`, which follows the seal `seal`. A segment that is itself sealed
  // and immutable by now (this writer is rotations behind) cannot be opened for appending: it is read,
  // its records join the tree, and its own seal is followed, until a segment takes appends.
  #moveTo(core: LogCore, next: string, seal: Head): void {
    const sealed = this.activeTarget;
    let name = next;
    let base = seal;
    let file: LogFile;
    for (;;) {
      try {
        ({ file } = LogFile.open(segmentTarget(this.target, name)));
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'EACCES') throw error;
        const passed = this.#passSealed(core, name, base);
        if (passed === null) throw error;
        ({ name, base } = passed);
      }
    }
    // The new entry must survive a power cut before records in it are acknowledged.
    fsyncSync(this.fd);
    killPoint('created');
    // The new segment is known to be empty unless another writer filled it: catching up reads it from 0.
    file.end = 0;
    file.observer = core.file.observer;
    core.file.close();
    core.file = file;
    this.#activeName = name;
    this.#base = base;
    this.#since = null;
    core.chain.reset(base);
    if (this.protect) {
      this.#setFlags(() => protectFileDescriptorSync(file.fd, this.activeTarget.bytes));
      this.#setFlags(() => setImmutableSync(sealed.bytes));
    }
  }

  /** Reads a sealed segment that cannot be opened for appending; its seal's head and next, or null if it has none. */
  #passSealed(core: LogCore, name: string, base: Head): { name: string; base: Head } | null {
    const fd = openSync(segmentTarget(this.target, name).bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const tail = readTail(fd, fstatSync(fd).size, base);
      const next = tail.headLine?.type === 'seal' ? sealedNext(tail.headLine) : undefined;
      if (next === undefined || next === null || tail.head === null) return null;
      const keeping = core.treeKeeping;
      if (keeping !== null && keeping.tree.valid) keeping.tree.foldFile(fd, 0, tail.headEnd);
      return { name: next, base: tail.head };
    } finally {
      closeSync(fd);
    }
  }

  /** Sets the flags the directory log asks for now: the directory and active segment append-only, the one before immutable. */
  protectNow(required: boolean): void {
    const names = listSegments(this.target.bytes);
    const run = required ? (set: () => void) => set() : (set: () => void) => this.#setFlags(set);
    run(() => protectAppendOnlySync(this.target.bytes, { strict: required }));
    run(() => protectFileDescriptorSync(this.#activeFd(), this.activeTarget.bytes, { strict: required }));
    const previous = names[names.indexOf(this.#activeName) - 1];
    if (previous !== undefined) run(() => setImmutableSync(segmentTarget(this.target, previous).bytes, { strict: required }));
  }

  #activeFd: () => number = () => -1;

  /** The descriptor of the active segment, for setting its flag through it. */
  attach(activeFd: () => number): void {
    this.#activeFd = activeFd;
  }

  #setFlags(set: () => void): void {
    try {
      set();
    } catch (error) {
      process.emitWarning(`fs-append-only: ${this.target.text} is not fully protected by the OS: ${(error as Error).message}`, {
        code: 'FS_APPEND_ONLY_UNPROTECTED',
      });
    }
  }

  #lastRecordOf(name: string): Head | null {
    const target = segmentTarget(this.target, name);
    const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      return readTail(fd, fstatSync(fd).size).head;
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
