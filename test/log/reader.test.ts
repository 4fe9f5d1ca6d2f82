// readLog: its option checks, lines read backwards, and seeking to `from` giving exactly what a scan from byte 0 gives.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { readLog } from '../../lib/index';
import { readLinesBackward } from '../../lib/log/backward';
import { GENESIS, MAX_RECORD_BYTES, encodeRecord } from '../../lib/log/format';
import { type Line, readLines } from '../../lib/log/lines';
import { type LogRecord, readRecords } from '../../lib/log/reader';
import { findStart } from '../../lib/log/seek';
import { useScratch } from './helpers';

const scratch = useScratch();
const TS = '2026-11-22T10:00:00.000Z';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Builds log text record by record, keeping the chain (or breaking it where a test says so). */
class LogText {
  text = '';
  seq = 0;
  prev = GENESIS;

  record(options: { seq?: number; type?: 'data' | 'recovery'; dataJson?: string; pad?: number } = {}): this {
    const seq = options.seq ?? this.seq + 1;
    const dataJson = options.dataJson ?? JSON.stringify({ n: seq, pad: 'x'.repeat(options.pad ?? 20) });
    const { line, hash } = encodeRecord({ seq, ts: TS, prev: this.prev, type: options.type ?? 'data', keyId: null, dataJson }, null);
    this.text += line;
    this.seq = seq;
    this.prev = hash;
    return this;
  }

  records(count: number, pad?: number): this {
    for (let i = 0; i < count; i += 1) this.record({ pad });
    return this;
  }

  raw(text: string): this {
    this.text += text;
    return this;
  }

  /** What a crash leaves and the next writer closes: a prefix of the next record, then "~\n". */
  torn(): this {
    const { line } = encodeRecord({ seq: this.seq + 1, ts: TS, prev: this.prev, type: 'data', keyId: null, dataJson: '{"torn":1}' }, null);
    return this.raw(`${line.slice(0, 50)}~\n`);
  }
}

/** readLog(from) with a given seek window, and what a scan from byte 0 keeps for the same from. */
async function bothWays(path: string, from: number, windowBytes?: number): Promise<{ seeking: LogRecord[]; scanning: LogRecord[] }> {
  const everything = await collect(readRecords(path, 1, Number.POSITIVE_INFINITY)); // from 1: no seek
  return {
    seeking: await collect(readRecords(path, from, Number.POSITIVE_INFINITY, windowBytes)),
    scanning: everything.filter((record) => record.seq >= from),
  };
}

describe('readLog options', () => {
  it('refuses unknown options, wrong types and out-of-range values with Node codes', () => {
    const path = scratch.path('any.log');
    expect(() => readLog(path, { form: 3 } as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"options.form"') }));
    expect(() => readLog(path, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => readLog(path, { from: '2' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"options.from"') }));
    expect(() => readLog(path, { from: 0 })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => readLog(path, { limit: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('"options.limit"') }));
  });
});

describe('reading lines backwards', () => {
  const fileBytes = fc.array(fc.oneof({ arbitrary: fc.constant(0x0a), weight: 1 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 4 }), { maxLength: 400 });

  async function both(path: string, chunkBytes?: number): Promise<{ forward: Line[]; backward: Line[] }> {
    const forward = await collect(readLines(path));
    const file = await open(path, 'r');
    try {
      const backward = await collect(readLinesBackward(file, (await file.stat()).size, chunkBytes));
      return { forward, backward: backward.reverse() };
    } finally {
      await file.close();
    }
  }

  it('gives the lines readLines gives, last first, whatever the chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(fileBytes, fc.integer({ min: 1, max: 64 }), async (bytes, chunkBytes) => {
        const path = scratch.path('lines');
        writeFileSync(path, Buffer.from(bytes));
        const { forward, backward } = await both(path, chunkBytes);
        expect(backward).toEqual(forward);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a line longer than a record by its size and keeps none of it, terminated or not', async () => {
    const path = scratch.path('long');
    const huge = 'h'.repeat(MAX_RECORD_BYTES + 10);
    for (const text of [`a\n${huge}\nb\n`, `a\n${huge}`, `${huge}\n`, `${'x'.repeat(MAX_RECORD_BYTES)}\nshort`]) {
      writeFileSync(path, text);
      const { forward, backward } = await both(path);
      expect(backward).toEqual(forward);
    }
    expect((await both(path)).backward[0]).toMatchObject({ oversized: false, length: MAX_RECORD_BYTES });
  });
});

describe('readLog from a seq seeks, and returns what a scan from the start returns', () => {
  it('in an intact log, lands at most a window before the record', async () => {
    const path = scratch.path('intact.log');
    const log = new LogText().records(2000, 100);
    writeFileSync(path, log.text);
    const file = await open(path, 'r');
    try {
      const size = (await file.stat()).size;
      const offsetOf = (seq: number): number => log.text.indexOf(`{"seq":${seq},`);
      // It lands at most a window before the record (after the last smaller seq it read), never after it.
      for (const [from, windowBytes] of [[1000, 65536], [1999, 65536], [2000, 65536], [777, 300], [1990, 300]] as const) {
        const start = await findStart(file, size, from, windowBytes);
        expect(start).toBeGreaterThan(offsetOf(from) - windowBytes);
        expect(start).toBeLessThanOrEqual(offsetOf(from));
        expect(log.text[start - 1]).toBe('\n');
      }
      // Past the last record: the scan starts in the last window and finds nothing.
      expect(await findStart(file, size, 5000)).toBeGreaterThan(size - 65536);
    } finally {
      await file.close();
    }
    expect((await collect(readLog(path, { from: 1995 }))).map((record) => record.seq)).toEqual([1995, 1996, 1997, 1998, 1999, 2000]);
    expect((await collect(readLog(path, { from: 1995, limit: 2 }))).map((record) => record.seq)).toEqual([1995, 1996]);
  });

  type Piece = 'record' | 'long-record' | 'junk' | 'torn' | 'recovery' | 'bad-data' | 'blank' | 'crlf';
  const piece = fc.oneof(
    { arbitrary: fc.constant<Piece>('record'), weight: 12 },
    { arbitrary: fc.constantFrom<Piece>('long-record', 'junk', 'torn', 'recovery', 'bad-data', 'blank', 'crlf'), weight: 3 },
  );

  function damagedLog(pieces: Piece[], unterminated: boolean): string {
    const log = new LogText();
    for (const kind of pieces) {
      if (kind === 'record') log.record();
      else if (kind === 'long-record') log.record({ pad: 900 });
      else if (kind === 'junk') log.raw('not a record {"seq":3}\n');
      else if (kind === 'torn') log.torn();
      else if (kind === 'recovery') log.record({ type: 'recovery', dataJson: '{"reason":"torn-tail","offset":0,"length":0}' });
      else if (kind === 'bad-data') log.record({ dataJson: '{not json' }); // well formed, skipped by readers
      else if (kind === 'blank') log.raw('\n');
      else log.raw(new LogText().record({ seq: log.seq + 1 }).text.replace('\n', '\r\n')); // not a record: ends in \r
    }
    if (unterminated) log.raw(new LogText().record({ seq: log.seq + 1 }).text.slice(0, 60));
    return log.text;
  }

  it('on logs with non-record lines, torn lines, recoveries and records readers skip', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 150 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 160 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(64, 300, 2048, undefined),
        async (pieces, unterminated, froms, windowBytes) => {
          const path = scratch.path('damaged.log');
          writeFileSync(path, damagedLog(pieces, unterminated));
          for (const from of froms) {
            const { seeking, scanning } = await bothWays(path, from, windowBytes);
            expect(seeking).toEqual(scanning);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('on a log with a line longer than a record where the probes land', async () => {
    const path = scratch.path('huge-line.log');
    const log = new LogText().records(1500, 300).raw(`${'z'.repeat(MAX_RECORD_BYTES + 100)}\n`).records(1500, 300);
    writeFileSync(path, log.text);
    for (const from of [2, 1400, 1501, 1502, 2500, 3000, 3001]) {
      const { seeking, scanning } = await bothWays(path, from);
      expect(seeking.map((record) => record.seq)).toEqual(scanning.map((record) => record.seq));
    }
  });

  // Tampering can make seqs go down or jump. The scan from byte 0 keeps every record with seq >= from
  // wherever it is, so seeking must notice what it reads and fall back to that scan. What it does not
  // read it cannot notice: a single seq raised in the first half of a log is seen only when a probe
  // reads it (verifyLog is the check that reads everything).
  describe('on tampered logs whose seqs do not grow through the file', () => {
    async function expectSame(text: string, froms: number[], windows: (number | undefined)[] = [256, 1024, undefined]): Promise<void> {
      const path = scratch.path('tampered.log');
      writeFileSync(path, text);
      for (const windowBytes of windows) {
        for (const from of froms) {
          const { seeking, scanning } = await bothWays(path, from, windowBytes);
          expect({ from, windowBytes, seqs: seeking.map((record) => record.seq) }).toEqual({ from, windowBytes, seqs: scanning.map((record) => record.seq) });
        }
      }
    }

    it('another log spliced into the middle: its seqs start again at 1', async () => {
      const before = new LogText().records(180, 60);
      const spliced = new LogText().records(40, 60); // in place of 181 to 220
      const after = new LogText();
      after.seq = 220;
      after.prev = 'f'.repeat(64); // the hash of the record 220 that was replaced
      after.records(180, 60);
      // The first probe lands in the spliced records. A from up to 40 lands inside them with nothing
      // amiss in what was read, and their copies of 30..40 hide that 30..180 come before: no reader
      // that skips bytes can see that (verifyLog reports it as a sequence gap and a chain break).
      await expectSame(before.text + spliced.text + after.text, [100, 150, 181, 200, 221, 300, 400, 401]);
    });

    it('records in the middle renumbered higher, chained among themselves', async () => {
      const before = new LogText().records(180, 60);
      const moved = new LogText();
      moved.seq = 1180;
      moved.prev = before.prev;
      moved.records(40, 60);
      const after = new LogText();
      after.seq = 220;
      after.prev = moved.prev;
      after.records(180, 60);
      await expectSame(before.text + moved.text + after.text, [100, 181, 221, 300, 400, 1000, 1181, 1200, 1221]);
    });

    it('the records just after `from` renumbered lower: the probes see the seqs go down', async () => {
      for (const [from, last] of [[300, 300], [300, 302], [350, 350], [350, 353]] as const) {
        const log = new LogText().records(last, 60);
        log.seq -= 150;
        log.records(400 - last, 60);
        await expectSame(log.text, [from], [256]);
      }
    });

    it('one record in the middle with its seq raised past the end', async () => {
      const log = new LogText().records(400, 60);
      const lines = log.text.split(/(?<=\n)/);
      // The first line starting after the file's middle byte: every bisection reads it first.
      let offset = 0;
      let middle = 0;
      while (offset < log.text.length / 2) offset += lines[middle++]!.length;
      lines[middle] = lines[middle]!.replace(/^\{"seq":\d+,/, '{"seq":5000,');
      await expectSame(lines.join(''), [150, 300, 390, 4999, 5000]);
    });
  });
});
