// Validates a path argument the way node:fs does and turns it into the bytes the addon takes.
import { fileURLToPath } from 'node:url';

import { invalidArgType, invalidArgValue } from './validate';

/** What the attribute functions accept as a path: as in `node:fs`. */
export type PathLike = string | Buffer | URL;

export interface Target {
  /** What the addon takes: the string itself, or the Buffer's bytes (so non-UTF-8 names survive). */
  readonly bytes: string | Buffer;
  /** The path as a string, for messages and error properties. */
  readonly text: string;
}

export function toTarget(path: unknown, name = 'path'): Target {
  // Strings, the common case, go to the addon as they are: no Buffer to allocate per call.
  if (typeof path === 'string') {
    if (path.length === 0) throw invalidArgValue(name, 'must not be empty', path);
    if (path.includes('\0')) throw invalidArgValue(name, 'must not contain a NUL byte', path);
    return { bytes: path, text: path };
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(path)) {
    bytes = path;
  } else if (path instanceof URL) {
    if (path.protocol !== 'file:') throw invalidArgValue(name, `must be a file: URL (not ${path.protocol})`, path.href);
    bytes = Buffer.from(fileURLToPath(path));
  } else {
    throw invalidArgType(name, 'of type string or an instance of Buffer or URL', path);
  }
  if (bytes.length === 0) throw invalidArgValue(name, 'must not be empty', path);
  if (bytes.includes(0)) throw invalidArgValue(name, 'must not contain a NUL byte', path);
  return { bytes, text: bytes.toString() };
}
