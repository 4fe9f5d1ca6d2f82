// The log's own failures, as AppendOnlyErrors with a cause and a fix.
import { sentence } from '../advice';
import { AppendOnlyError, isSystemError } from '../errors';

export function logClosedError(path: string): AppendOnlyError {
  const fix = 'Open the log again with AppendOnlyLog.open()';
  return new AppendOnlyError(`ERR_LOG_CLOSED: the log ${path} is closed. ${fix}.`, { code: 'ERR_LOG_CLOSED', path, fix });
}

export function logReplacedError(path: string, what: 'deleted' | 'replaced'): AppendOnlyError {
  const fix = 'Find out who removed it (the append-only flag prevents this), then close this log and open the path again';
  return new AppendOnlyError(
    `ERR_LOG_REPLACED: the log ${path} was ${what} while open, so nothing more is appended to the old file. ${fix}.`,
    { code: 'ERR_LOG_REPLACED', path, fix },
  );
}

/** durability 'none': a write failed after the appends it held had resolved. */
export function lostRecordsError(cause: unknown, first: number, last: number, path: string): AppendOnlyError {
  const code = isSystemError(cause) ? cause.code : 'EIO';
  const fix =
    "Use durability 'sync' where every acknowledged record must survive, or call flush() where it matters; " +
    'the log continues from the last record written';
  const what = first === last ? `record ${first}` : `records ${first} to ${last}`;
  return new AppendOnlyError(
    `${code}: ${what} of ${path}, appended with durability 'none', were lost when writing them failed (${(cause as Error).message}). ${fix}.`,
    { code, path, fix, cause },
  );
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

/** A system error from opening, writing or reading the log, with its cause and fix added. */
export function explainLogFailure(error: unknown, path: string, action: 'write' | 'read' = 'write'): unknown {
  if (!isSystemError(error) || error instanceof AppendOnlyError) return error;
  const known = action === 'read' ? READ_CAUSES[error.code] : CAUSES[error.code];
  const [cause, fix] = known ?? ['the operating system refused the call', ''];
  return new AppendOnlyError(`${error.message}. ${sentence(cause, fix)}`, {
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    path: error.path ?? path,
    fix,
    cause: error,
  });
}
