// Streams a file's lines with their byte offsets, in bounded memory: a line longer than a record may
// be is reported by its size and skipped, never held.
import { type FileHandle, open } from 'node:fs/promises';

import { explainLogFailure } from './errors';

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
  /** Called after each chunk with the bytes read so far (from 0) and the file's size when opened. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /**
   * Offered each line start whose bytes are in `view` (from `from` to `to`; view[0] is at `viewOffset` in
   * the file), before the line is read: returns how many bytes of whole lines it consumed itself.
   */
  skip?: (view: Buffer, from: number, to: number, viewOffset: number) => number;
}

export async function* readLines(path: string, options: LineOptions = {}): AsyncGenerator<Line> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw explainLogFailure(error, path, 'read');
  }
  let reading: Promise<{ bytesRead: number }> | undefined;
  try {
    const total = (await file.stat()).size;
    // Two buffers: the next chunk is read while this one is processed.
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    let current = 0;
    let position = options.start ?? 0;
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
      for (;;) {
        if (options.skip !== undefined && carryBytes === 0 && !skipping && from < bytesRead) {
          from += options.skip(view, from, bytesRead, position);
          lineStart = position + from;
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
