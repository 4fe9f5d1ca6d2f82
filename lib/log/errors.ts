// The log's own failures, as AppendOnlyErrors with a cause and a fix.
import { AppendOnlyError, isSystemError } from '../errors';
import { type Explainer, explainFailure } from '../attributes/explain';

export function logClosedError(path: string): AppendOnlyError {
  const fix = 'Open the log again with AppendOnlyLog.open()';
  return new AppendOnlyError(`ERR_LOG_CLOSED: the log ${path} is closed. ${fix}.`, { code: 'ERR_LOG_CLOSED', path, fix });
}

export function logReplacedError(path: string, what: 'deleted' | 'renamed or replaced'): AppendOnlyError {
  const fix = 'Find out who removed or moved it (the append-only flag prevents this), then close this log and open the path again';
  return new AppendOnlyError(
    `ERR_LOG_REPLACED: the log ${path} was ${what} while open, so nothing more is appended to the old file. ${fix}.`,
    { code: 'ERR_LOG_REPLACED', path, fix },
  );
}

/** "records 601 to 626 and 700": consecutive seqs as ranges. */
function describeSeqs(seqs: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < seqs.length; ) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j += 1;
    ranges.push(i === j ? `${seqs[i]}` : `${seqs[i]} to ${seqs[j]}`);
    i = j + 1;
  }
  const list = ranges.length === 1 ? ranges[0]! : `${ranges.slice(0, -1).join(', ')} and ${ranges[ranges.length - 1]}`;
  return `${seqs.length === 1 ? 'record' : 'records'} ${list}`;
}

/**
 * durability 'none': a write failed after the appends it held had resolved. `seqs` are exactly the
 * records that did not reach the file; the chain went on from the last record that did, so later
 * records may carry the same seqs.
 */
export function lostRecordsError(cause: unknown, seqs: readonly number[], path: string): AppendOnlyError {
  const code = isSystemError(cause) ? cause.code : 'EIO';
  const fix =
    "Use durability 'sync' where every acknowledged record must survive, or call flush() where it matters; " +
    'the log continues from the last record written';
  return new AppendOnlyError(
    `${code}: ${describeSeqs(seqs)} of ${path}, appended with durability 'none', were lost when writing them failed (${(cause as Error).message}). ${fix}.`,
    { code, path, fix, cause },
  );
}

/** open() with the key id of the log's last signed record but another secret. */
export function keyMismatchError(path: string, keyId: string, seq: number): AppendOnlyError {
  const fix = `Open the log with the secret that signed it, or rotate to a new key id (a different "id" starts a new key)`;
  return new AppendOnlyError(
    `ERR_KEY_MISMATCH: record ${seq} of ${path} is signed with key "${keyId}", and the secret given for "${keyId}" does not verify it; appending would sign every later record with a key no verifier holds. ${fix}.`,
    { code: 'ERR_KEY_MISMATCH', path, fix },
  );
}

export function logSealedError(path: string): AppendOnlyError {
  const fix = 'A sealed log is finished: append to a new log (or, for a directory log, restore its missing segments)';
  return new AppendOnlyError(`ERR_LOG_SEALED: the log ${path} ends with a seal record, so nothing more may be appended to it. ${fix}.`, {
    code: 'ERR_LOG_SEALED',
    path,
    fix,
  });
}

export function noCheckpointsError(path: string): AppendOnlyError {
  const fix = 'Open the log with the checkpoints option ({ signer }, from generateCheckpointKey)';
  return new AppendOnlyError(`ERR_NO_CHECKPOINTS: the log ${path} was opened without a checkpoint signer. ${fix}.`, {
    code: 'ERR_NO_CHECKPOINTS',
    path,
    fix,
  });
}

export function notADirectoryLogError(path: string): AppendOnlyError {
  const fix = 'Pass the directory of a segmented log, or a file path without the rotate option';
  return new AppendOnlyError(`ENOTDIR: ${path} is not a directory, and a log with rotation is a directory of segments. ${fix}.`, {
    code: 'ENOTDIR',
    path,
    fix,
  });
}

export function notALogError(path: string, reason: string): AppendOnlyError {
  const fix = 'Pass the path of a log written by fs-append-only, or of a new or empty file; the file was not modified';
  return new AppendOnlyError(`ERR_NOT_A_LOG: ${path} is not a log of this format (${reason}). ${fix}.`, {
    code: 'ERR_NOT_A_LOG',
    path,
    fix,
  });
}

export function notARegularFileError(path: string, kind: string): AppendOnlyError {
  const fix = 'Pass the path of a regular file';
  return new AppendOnlyError(`ENOTSUP: a log must be a regular file, and ${path} is ${kind}. ${fix}.`, {
    code: 'ENOTSUP',
    syscall: 'open',
    path,
    fix,
  });
}

const CAUSES: Record<string, [string, string]> = {
  ENOENT: ['the directory holding the log does not exist', 'Create the directory first'],
  ENOTDIR: ['a component of the path is not a directory', 'Check the path'],
  EACCES: ['the process may not open or create the log', 'Grant write permission on the file and its directory'],
  EPERM: ['the kernel refused to open the log for appending', 'Check the file and directory flags (lsattr) and permissions'],
  ELOOP: ['the path is a symbolic link, and a log is never opened through one', 'Pass the real path of the log'],
  EROFS: ['the filesystem is mounted read-only', 'Remount it read-write, or keep the log elsewhere'],
  ENOSPC: [
    'the disk is full: the records of this call were not acknowledged, and every acknowledged record is intact',
    'Free some space; the next append recovers any torn bytes and continues the chain',
  ],
  EDQUOT: ['the disk quota is exhausted; no acknowledged record was lost', 'Raise the quota or free some space'],
  EISDIR: ['the path is a directory', 'Pass the path of a file'],
};

// Reading needs less than writing: the file must exist and be readable, nothing more.
const READ_CAUSES: Record<string, [string, string]> = {
  ENOENT: ['the log does not exist', 'Check the path'],
  EACCES: ['the process may not read the log', 'Grant read permission on the file'],
  EISDIR: ['the path is a directory', 'Pass the path of a log file'],
  ENOTDIR: ['a component of the path is not a directory', 'Check the path'],
};

/** The log's own table of causes, for the one explainer of failed system calls. */
function fromTable(table: Record<string, [string, string]>): Explainer {
  return (error) => {
    const known = table[error.code];
    return known === undefined ? undefined : { cause: known[0], fix: known[1] };
  };
}

const EXPLAIN_WRITE = fromTable(CAUSES);
const EXPLAIN_READ = fromTable(READ_CAUSES);

/** A system error from opening, writing or reading the log, with its cause and fix added. */
export function explainLogFailure(error: unknown, path: string, action: 'write' | 'read' = 'write'): unknown {
  return explainFailure(error, path, action === 'read' ? EXPLAIN_READ : EXPLAIN_WRITE);
}
