// sealLog() and pruneLog(): finishing a log, and removing old segments with a record of what went.
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';

import { clearImmutableSync, getFileAttributesSync, protectAppendOnlySync, setImmutableSync, unprotectAppendOnlySync } from '../attributes';
import { type PathLike, type Target, toTarget } from '../paths';
import { checkOptions, invalidArgType } from '../validate';
import { segmentTarget } from './directory';
import { explainLogFailure, notADirectoryLogError } from './errors';
import type { Head, ParsedLine } from './format';
import { resolveTarget } from './log-file';
import { toSigningKey } from './options';
import type { PrunedSegment } from './report';
import { listSegments } from './segments';
import { SharedLog } from './shared';
import { readTail } from './tail';
import { rangeThrough } from './tree';

export interface SealOptions {
  /** Sign the seal record (use the log's key, so that verifyLog with keys passes). */
  key?: { id: string; secret: string | Buffer };
}

export interface PruneOptions extends SealOptions {
  /** Remove the sealed segments whose every record has a seq below this, or was written before this date. */
  before: number | Date;
}

function isDirectory(target: Target): boolean {
  try {
    const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      return fstatSync(fd).isDirectory();
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Ends a log with a seal record (naming no next segment) and makes it immutable, as compliance teams
 * archive a finished log with `chattr +i`. For a directory log, its active segment is sealed.
 * Resolves with the seal record's { seq, hash }.
 */
export async function sealLog(path: PathLike, options: SealOptions = {}): Promise<Head> {
  const target = resolveTarget(toTarget(path));
  const given = checkOptions(options, ['key']);
  const key = given.key === undefined ? null : toSigningKey(given.key, 'options.key');
  const directory = isDirectory(target);
  const { log } = directory ? SharedLog.acquireDirectory(target, false, null) : SharedLog.acquire(target);
  let head: Head;
  let sealed: Target;
  try {
    head = log.appendRecordSync('seal', JSON.stringify({ next: null }), key);
    sealed = directory ? log.core.directory!.activeTarget : target;
  } finally {
    log.release(target);
  }
  try {
    setImmutableSync(sealed.bytes, { strict: true });
  } catch (error) {
    throw explainLogFailure(error, sealed.text);
  }
  return head;
}

/** The last record of a segment file, parsed, or null. */
function lastRecord(target: Target): ParsedLine | null {
  const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    return readTail(fd, fstatSync(fd).size).headLine;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The first record's seq of a segment file, read from its first line. */
function firstSeq(target: Target): number | null {
  const fd = openSync(target.bytes, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const start = Buffer.alloc(32);
    const read = readSync(fd, start, 0, start.length, 0);
    const match = /^\{"seq":(\d+),/.exec(start.toString('latin1', 0, read));
    return match === null ? null : Number(match[1]);
  } finally {
    closeSync(fd);
  }
}

/** The sealed segments at the front of the log that `before` covers, in chain order; never the active one. */
function segmentsBefore(dir: Target, names: string[], before: number | Date): PrunedSegment[] {
  const chosen: PrunedSegment[] = [];
  for (const name of names.slice(0, -1)) {
    const target = segmentTarget(dir, name);
    const last = lastRecord(target);
    const first = firstSeq(target);
    if (last === null || last.type !== 'seal' || first === null) break;
    const old = typeof before === 'number' ? last.seq < before : Date.parse(last.ts) < before.getTime();
    if (!old) break;
    chosen.push({ file: name, firstSeq: first, lastSeq: last.seq, lastHash: last.hash });
  }
  return chosen;
}

/**
 * Removes whole sealed segments older than `before` from a directory log. First it appends a record of
 * `type: "prune"` to the live chain naming each segment it will remove (file, first and last seq, last
 * hash), so that verifyLog can tell retention from deletion; then it removes them. On a protected
 * directory that needs CAP_LINUX_IMMUTABLE (the EPERM names it). Killed between the two steps, the log
 * holds segments its prune record names: both states verify, and running it again finishes the job.
 */
export async function pruneLog(path: PathLike, options: PruneOptions): Promise<{ removed: string[] }> {
  const target = resolveTarget(toTarget(path));
  const given = checkOptions(options, ['before', 'key']);
  const before = given.before;
  if (!(before instanceof Date && !Number.isNaN(before.getTime())) && !(typeof before === 'number' && Number.isSafeInteger(before) && before >= 1)) {
    throw invalidArgType('options.before', 'a seq (an integer >= 1) or a valid Date', before);
  }
  const key = given.key === undefined ? null : toSigningKey(given.key, 'options.key');
  if (!isDirectory(target)) throw notADirectoryLogError(target.text);
  const names = listSegments(target.bytes);
  if (names.length === 0) throw notADirectoryLogError(target.text);
  const doomed = segmentsBefore(target, names, before);
  if (doomed.length === 0) return { removed: [] };

  // The tree of what goes, so that checkpoints and consistency proofs can still be made after it is gone.
  const range = rangeThrough(target, doomed[doomed.length - 1]!.lastSeq);
  const { log } = SharedLog.acquireDirectory(target, false, null);
  try {
    log.appendRecordSync('prune', JSON.stringify({ segments: doomed, range: range.toJSON() }), key);
  } finally {
    log.release(target);
  }
  removeSegments(target, doomed.map((segment) => segment.file));
  return { removed: doomed.map((segment) => segment.file) };
}

// The directory's append-only flag forbids unlinking: lift it for the removal and set it again after,
// whatever happens. Each segment's own flags go first.
function removeSegments(dir: Target, names: string[]): void {
  const protectedDirectory = getFileAttributesSync(dir.bytes).appendOnly;
  try {
    if (protectedDirectory) unprotectAppendOnlySync(dir.bytes, { strict: true });
    for (const name of names) {
      const segment = segmentTarget(dir, name);
      const flags = getFileAttributesSync(segment.bytes);
      if (flags.immutable) clearImmutableSync(segment.bytes, { strict: true });
      if (flags.appendOnly) unprotectAppendOnlySync(segment.bytes, { strict: true });
      unlinkSync(segment.bytes);
    }
  } catch (error) {
    throw explainLogFailure(error, dir.text);
  } finally {
    if (protectedDirectory) {
      try {
        protectAppendOnlySync(dir.bytes, { strict: true });
      } catch {
        // The flag could be lifted, so it can be set again; if not, the next open() with protect sets it.
      }
    }
  }
}
