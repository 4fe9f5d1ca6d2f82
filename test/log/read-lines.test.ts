// readLines with a skip that takes lines from a chunk and a skipFile that takes them from the file itself:
// every line is either taken or yielded, once, in file order, with its offset, wherever the jumps land.
import { readFileSync, writeFileSync } from 'node:fs';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { readLines } from '../../lib/log/lines';
import { useScratch } from './helpers';

const scratch = useScratch();
const CHUNK = 1024 * 1024; // lib/log/lines.ts CHUNK_BYTES

/** Lines the fakes may take start with '+'; the others ('-') only readLines yields. */
function takenFrom(bytes: Buffer, from: number, to: number): number {
  let at = from;
  for (;;) {
    const newline = bytes.indexOf(0x0a, at);
    if (newline === -1 || newline >= to || bytes[at] !== 0x2b) return at - from;
    at = newline + 1;
  }
}

interface Piece {
  offset: number;
  length: number;
  how: 'yielded' | 'skipped' | 'jumped';
}

async function readAll(file: string, span: number): Promise<{ pieces: Piece[]; progress: number[] }> {
  const whole = readFileSync(file);
  const pieces: Piece[] = [];
  const progress: number[] = [];
  const lines = readLines(file, {
    skip: (view, from, to, viewOffset) => {
      const taken = takenFrom(view, from, to);
      if (taken > 0) pieces.push({ offset: viewOffset + from, length: taken, how: 'skipped' });
      return taken;
    },
    // Takes the '+' lines that start before offset + span, as the native scanner does, from the file's bytes.
    skipFile: async (_fd, offset) => {
      await new Promise((resolve) => setImmediate(resolve));
      let at = offset;
      while (at < offset + span && whole[at] === 0x2b) {
        const newline = whole.indexOf(0x0a, at);
        if (newline === -1) break;
        at = newline + 1;
      }
      if (at > offset) pieces.push({ offset, length: at - offset, how: 'jumped' });
      return { bytes: at - offset, more: at >= offset + span && at < whole.length };
    },
    onProgress: (bytesRead) => progress.push(bytesRead),
  });
  for await (const line of lines) pieces.push({ offset: line.offset, length: line.length + (line.terminated ? 1 : 0), how: 'yielded' });
  return { pieces, progress };
}

describe('readLines with skipFile', () => {
  it('covers every byte once, in order, on files of long runs of taken lines and a few others', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ taken: fc.boolean(), count: fc.integer({ min: 1, max: 20_000 }), width: fc.integer({ min: 1, max: 120 }) }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 3 * CHUNK }),
        fc.boolean(),
        async (runs, span, terminated) => {
          const text = runs.map(({ taken, count, width }) => `${taken ? '+' : '-'}${'x'.repeat(width)}\n`.repeat(taken ? count : Math.min(count, 5))).join('');
          const bytes = Buffer.from(terminated ? text : `${text}-tail`);
          const file = scratch.path(`lines-${(run += 1)}.txt`);
          writeFileSync(file, bytes);
          const { pieces, progress } = await readAll(file, span);
          let at = 0;
          for (const piece of pieces) {
            expect(piece.offset).toBe(at);
            at += piece.length;
          }
          expect(at).toBe(bytes.length);
          // What the fakes took is '+' lines only, and every '-' line is yielded.
          for (const piece of pieces) {
            if (piece.how !== 'yielded') expect(bytes.toString('latin1', piece.offset, piece.offset + piece.length)).toMatch(/^(\+x*\n)+$/);
          }
          const yieldedMinus = pieces.filter((p) => p.how === 'yielded' && bytes[p.offset] === 0x2d).length;
          expect(yieldedMinus).toBe(bytes.toString('latin1').split('\n').filter((line) => line.startsWith('-')).length);
          for (let i = 1; i < progress.length; i += 1) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
        },
      ),
      { numRuns: 30, endOnFailure: true },
    );
  }, 120_000);

  it('jumps only after a skip that took at least half a chunk', async () => {
    const file = scratch.path('short-runs.txt');
    writeFileSync(file, Buffer.from(`${'+x\n'.repeat(1000)}-y\n`.repeat(200)));
    const { pieces } = await readAll(file, 10 * CHUNK);
    expect(pieces.filter((piece) => piece.how === 'jumped')).toEqual([]);
    const long = scratch.path('long-run.txt');
    writeFileSync(long, Buffer.from(`${'+x\n'.repeat(1_000_000)}-y\n`));
    const jumped = (await readAll(long, CHUNK)).pieces.filter((piece) => piece.how === 'jumped');
    expect(jumped.length).toBeGreaterThan(0);
    expect(jumped.reduce((bytes, piece) => bytes + piece.length, 0)).toBeGreaterThan(1_000_000);
  });
});
