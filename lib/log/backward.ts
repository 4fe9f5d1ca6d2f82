// Reads a file's lines backwards from its end, in fixed-size chunks and bounded memory: the last records without the rest.
import type { FileHandle } from 'node:fs/promises';

import { MAX_RECORD_BYTES } from './format';
import type { Line } from './lines';

const CHUNK_BYTES = 64 * 1024;

/**
 * The lines of the first `size` bytes of `file`, last first, exactly as readLines() gives them in file
 * order: offsets, lengths and `terminated`, and a line longer than MAX_RECORD_BYTES reported as
 * oversized with no bytes (so memory stays within a record and a chunk, whatever the file holds).
 */
export async function* readLinesBackward(file: FileHandle, size: number, chunkBytes = CHUNK_BYTES): AsyncGenerator<Line> {
  let position = size; // everything from here on has been read
  let lineEnd = size; // the end (newline excluded) of the line being gathered
  let terminated = true;
  let pieces: Buffer[] = []; // the gathered line's bytes after the current chunk, in file order
  let pieceBytes = 0;
  let oversized = false;
  let first = true;

  const finish = (head: Buffer, offset: number): Line => {
    const length = lineEnd - offset;
    const line: Line =
      oversized || length > MAX_RECORD_BYTES
        ? { bytes: Buffer.alloc(0), offset, length, terminated, oversized: true }
        : { bytes: Buffer.concat([head, ...pieces]), offset, length, terminated, oversized: false };
    pieces = [];
    pieceBytes = 0;
    oversized = false;
    terminated = true;
    return line;
  };

  while (position > 0) {
    const start = Math.max(0, position - chunkBytes);
    const chunk = Buffer.allocUnsafe(position - start);
    let filled = 0;
    while (filled < chunk.length) {
      const { bytesRead } = await file.read(chunk, filled, chunk.length - filled, start + filled);
      if (bytesRead === 0) throw new Error(`the file became shorter than ${size} bytes while being read`);
      filled += bytesRead;
    }
    let end = chunk.length; // chunk bytes from here on belong to lines already gathered
    if (first) {
      first = false;
      // A file ending in a newline has no line after it; otherwise its last piece is unterminated.
      if (chunk[end - 1] === 0x0a) {
        end -= 1;
        lineEnd -= 1;
      } else {
        terminated = false;
      }
    }
    for (;;) {
      const newline = end === 0 ? -1 : chunk.lastIndexOf(0x0a, end - 1);
      if (newline === -1) break;
      yield finish(chunk.subarray(newline + 1, end), start + newline + 1);
      end = newline;
      lineEnd = start + newline;
    }
    // The rest of the chunk starts a line that began earlier: keep it unless the line is too long already.
    pieceBytes += end;
    if (pieceBytes > MAX_RECORD_BYTES) {
      oversized = true;
      pieces = [];
    } else if (end > 0) {
      pieces.unshift(Buffer.from(chunk.subarray(0, end)));
    }
    position = start;
  }
  // The file's first line, possibly empty (a file starting with a newline), as readLines() gives it.
  if (size > 0) yield finish(Buffer.alloc(0), 0);
}
