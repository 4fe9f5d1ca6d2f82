// Validates a path argument the way node:fs does and turns it into the bytes the addon takes.
import { fileURLToPath } from 'node:url';

/** What the attribute functions accept as a path: as in `node:fs`. */
export type PathLike = string | Buffer | URL;

export interface Target {
  /** What the addon takes: the string itself, or the Buffer's bytes (so non-UTF-8 names survive). */
  readonly bytes: string | Buffer;
  /** The path as a string, for messages and error properties. */
  readonly text: string;
}

function invalidType(name: string, value: unknown): TypeError {
  const received = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  const error = new TypeError(
    `The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${received}`,
  );
  return Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
}

function invalidValue(name: string, reason: string): TypeError {
  return Object.assign(new TypeError(`The "${name}" argument ${reason}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

export function toTarget(path: unknown, name = 'path'): Target {
  // Strings, the common case, go to the addon as they are: no Buffer to allocate per call.
  if (typeof path === 'string') {
    if (path.length === 0) throw invalidValue(name, 'must not be empty');
    if (path.includes('\0')) throw invalidValue(name, 'must not contain a NUL byte');
    return { bytes: path, text: path };
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(path)) {
    bytes = path;
  } else if (path instanceof URL) {
    if (path.protocol !== 'file:') throw invalidValue(name, `must be a file: URL. Received ${path.protocol}`);
    bytes = Buffer.from(fileURLToPath(path));
  } else {
    throw invalidType(name, path);
  }
  if (bytes.length === 0) throw invalidValue(name, 'must not be empty');
  if (bytes.includes(0)) throw invalidValue(name, 'must not contain a NUL byte');
  return { bytes, text: bytes.toString() };
}
