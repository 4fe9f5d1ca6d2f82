// Catching up under the lock: the head other processes left, and recovery of the bytes after it.
import { fstatSync } from 'node:fs';

import type { Chain } from './chain';
import { notALogError } from './errors';
import type { Head, SigningKey } from './format';
import type { RecoveryData } from './junk';
import type { LogFile } from './log-file';
import type { WriterTree } from './tree';
import { NotALogError, type TailState, hashRange, readAt, readTail } from './tail';

/** The Merkle tree a writer keeps, and how to rebuild it from the files. */
export interface TreeKeeping {
  tree: WriterTree;
  rebuild(): void;
}

/** Closes bytes after the last record: a record line always ends with "}", so one ending "~" never parses. */
const TERMINATOR = Buffer.from('~\n');

/**
 * Under the lock: if the file is not as this process left it, read the tail again and continue the
 * chain from it. Bytes after the last record, whether a crash left them or someone else wrote them,
 * are closed with "~\n" and a recovery record naming their offset, length and SHA-256, so the log
 * keeps recording whatever was done to it; verifyLog still reports bytes no crash could leave.
 */
export function catchUp(file: LogFile, chain: Chain, key: SigningKey | null, path: string, base: Head | null = null, tree: TreeKeeping | null = null): TailState | null {
  const stats = fstatSync(file.fd);
  file.checkStillThere(stats);
  const size = stats.size;
  if (size === file.end) return null;
  const known = file.end;
  let tail;
  try {
    tail = readTail(file.fd, size, base);
  } catch (error) {
    if (error instanceof NotALogError) throw notALogError(path, error.reason);
    throw error;
  }
  chain.reset(tail.head);
  // The records other processes wrote since this one last wrote join the tree; without a known
  // starting point it is rebuilt.
  if (tree !== null) {
    if (known >= 0 && tree.tree.valid) tree.tree.foldFile(file.fd, known, tail.headEnd);
    else tree.rebuild();
  }
  file.end = tail.headEnd;
  // A sealed segment is left as it is: the caller moves on to the segment its seal names.
  if (tail.after === 'none' || tail.headLine?.type === 'seal') return tail;
  recover(file, chain, key, tail);
  return tail;
}

function recover(file: LogFile, chain: Chain, key: SigningKey | null, tail: TailState): void {
  const size = tail.size;
  const from = tail.headEnd;
  const endsLine = readAt(file.fd, size - 1, 1)[0] === 0x0a;
  const terminator = endsLine ? Buffer.alloc(0) : TERMINATOR;
  const data: RecoveryData = {
    reason: tail.after === 'torn' ? 'torn-tail' : 'foreign-bytes',
    offset: from,
    length: size - from + terminator.length,
    sha256: hashRange(file.fd, from, size - from, terminator),
  };
  file.end = size;
  const record = chain.next(JSON.stringify(data), 'recovery', key);
  // The terminator and the recovery record go out in one write.
  file.writeAll(Buffer.concat([terminator, Buffer.from(record.line)]));
}
