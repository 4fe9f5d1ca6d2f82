// Opens logs for reading and streams their lines with byte offsets in bounded memory.
//
// A line longer than a record may be is reported by its size and skipped, never held.
import { type Stats, constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { constants as os } from 'node:os';

import { explainLogFailure, notARegularFileError } from './errors';
import { MAX_RECORD_BYTES } from './format';

export interface Line {
  /** The line's bytes without its newline; empty for an oversized line. */
  bytes: Buffer;
  /** Where the line starts in the file. */
  offset: number;
  /** Its length in bytes, newline excluded. */
  length: number;
  /** false for the last line when the file does not end with a newline. */
  terminated: boolean;
  /** true when the line is longer than MAX_RECORD_BYTES: its bytes were not kept. */
  oversized: boolean;
}

const CHUNK_BYTES = 1024 * 1024;

export interface LineOptions {
  /** Byte offset to start at; it must be the start of a line. */
  start?: number;
  /** Without `start`: finds the line start to begin at, on the open file (whose size when opened is `size`). */
  locate?: (file: FileHandle, size: number) => Promise<number>;
  /** Called after each chunk with the bytes read so far (from 0) and the file's size when opened. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /**
   * Offered each line start whose bytes are in `view` (from `from` to `to`; view[0] is at `viewOffset` in
   * the file), before the line is read: returns how many bytes of whole lines it consumed itself.
   */
  skip?: (view: Buffer, from: number, to: number, viewOffset: number) => number;
  /**
   * Offered the offset of the rest of a chunk when `skip` took the whole lines of at least half of it and
   * left none: may take the file's lines from there on itself, reading them through `fd`, and resolves to
   * the bytes it took and whether it may take more after them. Reading goes on after what it took.
   */
  skipFile?: (fd: number, offset: number) => Promise<{ bytes: number; more: boolean }>;
}

export interface OpenLog {
  file: FileHandle;
  /** The file's size when opened. */
  size: number;
}

function kindOf(stats: Stats): string {
  return stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device';
}

/**
 * Opens a log for reading, as AppendOnlyLog.open() does for writing: O_NONBLOCK so that a FIFO in the
 * log's place cannot hang the open (a regular file ignores the flag), then fstat on the same fd and refuse
 * anything but a regular file. Reading a FIFO or /dev/zero would never end, and /dev/null would read as
 * an empty, intact log.
 */
export async function openLog(where: string | Buffer): Promise<OpenLog> {
  // A Buffer path is opened by its bytes (a name that is not UTF-8 stays itself); messages show it as text.
  const path = where.toString();
  let file: FileHandle;
  try {
    file = await open(where, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    // open(2) gives ENXIO for a Unix socket: say what the path is, as for a FIFO.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') {
      const stats = await stat(where).catch(() => null);
      if (stats?.isSocket()) throw notARegularFileError(path, 'a socket');
    }
    throw explainLogFailure(error, path, 'read');
  }
  try {
    const stats = await file.stat();
    if (stats.isDirectory()) {
      // Node opens a directory read-only without complaint; the read would fail with this error.
      const error = Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), {
        code: 'EISDIR',
        errno: -os.errno.EISDIR,
        syscall: 'read',
        path,
      });
      throw explainLogFailure(error, path, 'read');
    }
    if (!stats.isFile()) throw notARegularFileError(path, kindOf(stats));
    return { file, size: stats.size };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Lets `skipFile` take lines from `offset` on for as long as it can; returns where it stopped. */
async function skipFile(fd: number, offset: number, total: number, options: LineOptions): Promise<number> {
  for (;;) {
    const { bytes, more } = await options.skipFile!(fd, offset);
    offset += bytes;
    if (bytes > 0) options.onProgress?.(offset, total);
    if (!more || bytes === 0) return offset;
  }
}

export async function* readLines(path: string | Buffer, options: LineOptions = {}): AsyncGenerator<Line> {
  const { file, size: total } = await openLog(path);
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    // Two buffers: the next chunk is read while this one is processed.
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    let current = 0;
    let position = options.start ?? (options.locate !== undefined ? await options.locate(file, total) : 0);
    reading = file.read(buffers[0]!, 0, CHUNK_BYTES, position);
    let carry: Buffer[] = []; // the unfinished line's pieces
    let carryBytes = 0;
    let lineStart = position;
    let skipping = false; // inside an oversized line

    for (;;) {
      const { bytesRead }: { bytesRead: number } = await reading;
      if (bytesRead === 0) break;
      const view = buffers[current]!.subarray(0, bytesRead);
      current ^= 1;
      reading = file.read(buffers[current]!, 0, CHUNK_BYTES, position + bytesRead);
      let from = 0;
      let jumped = false;
      for (;;) {
        if (options.skip !== undefined && carryBytes === 0 && !skipping && from < bytesRead) {
          const taken = options.skip(view, from, bytesRead, position);
          from += taken;
          lineStart = position + from;
          if (options.skipFile !== undefined && taken >= CHUNK_BYTES / 2 && view.indexOf(0x0a, from) === -1) {
            const offset = await skipFile(file.fd, position + from, total, options);
            if (offset > lineStart) {
              // Reading goes on from there: the read ahead was of bytes already taken.
              await reading;
              position = offset;
              lineStart = offset;
              reading = file.read(buffers[current]!, 0, CHUNK_BYTES, position);
              jumped = true;
              break;
            }
          }
        }
        const newline = view.indexOf(0x0a, from);
        if (newline === -1) break;
        const length = carryBytes + newline - from;
        if (skipping || length > MAX_RECORD_BYTES) {
          yield { bytes: Buffer.alloc(0), offset: lineStart, length, terminated: true, oversized: true };
        } else {
          const piece = view.subarray(from, newline);
          const bytes = carryBytes === 0 ? Buffer.from(piece) : Buffer.concat([...carry, piece]);
          yield { bytes, offset: lineStart, length, terminated: true, oversized: false };
        }
        carry = [];
        carryBytes = 0;
        skipping = false;
        from = newline + 1;
        lineStart = position + from;
      }
      if (jumped) continue;
      const rest = bytesRead - from;
      carryBytes += rest;
      if (carryBytes > MAX_RECORD_BYTES) {
        skipping = true;
        carry = [];
      } else if (rest > 0) {
        carry.push(Buffer.from(view.subarray(from)));
      }
      position += bytesRead;
      options.onProgress?.(position, total);
    }
    if (carryBytes > 0) {
      const oversized = skipping;
      yield { bytes: oversized ? Buffer.alloc(0) : Buffer.concat(carry), offset: lineStart, length: carryBytes, terminated: false, oversized };
    }
  } finally {
    await reading?.catch(() => undefined);
    await file.close();
  }
}
