// Directory logs across processes: four writers sharing one rotation, a writer following another's seal, and SIGKILL at each step of a rotation.
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, readLog, verifyLog } from '../../lib/index';
import { lsattr } from './helpers';
import { type RecordLine, segmentFiles, segmentRecords, startSegmentWriter, seg, useLogDirectory } from './segment-writer';

const scratch = useLogDirectory();
const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/** Every record of the directory log in chain order, failing on a seq seen twice. */
async function chain(dir: string): Promise<Map<number, string>> {
  const bySeq = new Map<number, string>();
  for await (const record of readLog(dir)) {
    expect(bySeq.has(record.seq)).toBe(false);
    bySeq.set(record.seq, record.hash);
  }
  return bySeq;
}

/** The records of every segment, checking that each segment continues the seal that ends the one before. */
function checkLinks(dir: string): RecordLine[][] {
  const names = segmentFiles(dir);
  const segments = names.map((name) => segmentRecords(dir, name));
  segments.forEach((records, index) => {
    if (records.length > 0) expect(names[index]).toBe(seg(records[0]!.seq));
    if (index === segments.length - 1) return;
    const last = records[records.length - 1]!;
    expect(last.type).toBe('seal');
    expect(last.data).toEqual({ next: names[index + 1] });
    const following = segments[index + 1]!;
    if (following.length > 0) expect({ seq: following[0]!.seq, prev: following[0]!.prev }).toEqual({ seq: last.seq + 1, prev: last.hash });
  });
  return segments;
}

describe('several processes', () => {
  it('four processes appending with a small maxBytes share one chain and one rotation: contiguous seqs, every segment but the last sealed and immutable', async () => {
    const open = { rotate: { maxBytes: 1024 }, protect: 'required' as const };
    const log = await AppendOnlyLog.open(scratch.dir, open);
    await log.close();
    const writers = Array.from({ length: 4 }, () => startSegmentWriter({ dir: scratch.dir, count: 500, concurrency: 4, pad: 60, open }));
    const exits = await Promise.all(writers.map((writer) => writer.exited));
    // Every append of every writer was acknowledged, and no writer failed.
    expect.soft(writers.flatMap((writer) => writer.errors).slice(0, 3)).toEqual([]);
    expect.soft(exits.map((exit) => [exit.code, exit.stderr.split('\n')[0]])).toEqual(Array.from({ length: 4 }, () => [0, '']));

    const report = await verifyLog(scratch.dir);
    expect(report).toMatchObject({ status: 'intact', tampered: [], recovered: [], startsMidChain: null });
    const names = segmentFiles(scratch.dir);
    expect(report.segments.map((segment) => segment.file)).toEqual(names);
    expect(report.segments.slice(0, -1).every((segment) => segment.sealed)).toBe(true);
    checkLinks(scratch.dir);

    const records = await chain(scratch.dir);
    expect([...records.keys()]).toEqual(Array.from({ length: records.size }, (_, i) => i + 1));
    for (const writer of writers) for (const [seq, hash] of writer.acknowledged) expect(records.get(seq)).toBe(hash);
    // 2000 data records and one seal per segment but the last, in hundreds of segments.
    expect(records.size).toBe(2000 + names.length - 1);
    expect(names.length).toBeGreaterThan(300);

    expect(lsattr(scratch.dir)).toContain('a');
    for (const name of names.slice(0, -1)) expect(lsattr(join(scratch.dir, name))).toContain('i');
    const active = lsattr(join(scratch.dir, names[names.length - 1]!));
    expect(active).toContain('a');
    expect(active).not.toContain('i');
  }, 60_000);

  it('a writer whose segment another process sealed follows the seal and writes in the next segment', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: {}, protect: 'required' });
    await log.append({ by: 'test', n: 1 });
    // Another process appends, rotates, and appends nothing more: the active segment is now 0000…0004.
    const other = startSegmentWriter({ dir: scratch.dir, count: 1, rotate: true, open: { protect: 'required' } });
    expect((await other.exited).code).toBe(0);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4)]);

    const head = await log.append({ by: 'test', n: 2 });
    await log.close();
    expect(head.seq).toBe(4);
    const [first, second] = checkLinks(scratch.dir);
    expect(first!.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(second!.map((record) => record.data)).toEqual([{ by: 'test', n: 2 }]);
    expect(lsattr(join(scratch.dir, seg(1)))).toContain('i');
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 4 });
  });

  it('a writer two rotations behind follows the seals through a segment that is already immutable', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: {}, protect: 'required' });
    await log.append({ by: 'test', n: 1 });
    // Two rotations by other processes: 0000…0001 and 0000…0004 sealed (and immutable), 0000…0006 active.
    for (let round = 0; round < 2; round += 1) {
      const other = startSegmentWriter({ dir: scratch.dir, count: 1, rotate: true, open: { protect: 'required' } });
      expect((await other.exited).code).toBe(0);
    }
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(6)]);
    expect(lsattr(join(scratch.dir, seg(4)))).toContain('i');

    const head = await log.append({ by: 'test', n: 2 });
    await log.close();
    expect(head.seq).toBe(6);
    const segments = checkLinks(scratch.dir);
    expect(segments[2]!.map((record) => record.data)).toEqual([{ by: 'test', n: 2 }]);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 6 });
  });

  it("with every, a writer that follows another process's seal still rotates at the first append after a boundary", async () => {
    const period = 1000;
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { every: period } });
    await log.append({ by: 'test' });
    // Another process seals the segment, and then another appends the first record of the next one.
    const rotator = startSegmentWriter({ dir: scratch.dir, count: 0, rotate: true });
    expect((await rotator.exited).code).toBe(0);
    const writer = startSegmentWriter({ dir: scratch.dir, count: 1 });
    expect((await writer.exited).code).toBe(0);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(3)]);
    const opening = segmentRecords(scratch.dir, seg(3))[0]!;
    // Sleep past the next boundary after that record was written.
    const boundary = (Math.floor(Date.parse(opening.ts) / period) + 1) * period;
    await sleep(Math.max(0, boundary - Date.now()) + 50);

    const head = await log.append({ by: 'test', after: 'boundary' });
    await log.close();
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(3), seg(head.seq)]);
    expect(segmentRecords(scratch.dir, seg(head.seq))[0]!.data).toEqual({ by: 'test', after: 'boundary' });
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact' });
  });
});

// FS_APPEND_ONLY_TEST_KILL_AT makes the writer SIGKILL itself right after that step of a rotation.
const STEPS = ['sealed', 'created', 'flagged'] as const;

describe('SIGKILL during a rotation', () => {
  it.each(STEPS)('killed after the step "%s" of rotate(): verifyLog calls the directory intact, and the next open() completes the rotation', async (step) => {
    const writer = startSegmentWriter(
      { dir: scratch.dir, count: 3, rotate: true, open: { rotate: {}, protect: 'required' } },
      { FS_APPEND_ONLY_TEST_KILL_AT: step },
    );
    expect((await writer.exited).signal).toBe('SIGKILL');
    expect([...writer.acknowledged.keys()]).toEqual([1, 2, 3]);

    // What each step leaves: the seal record naming 0000…0005, then that segment, then the flags.
    const sealed = join(scratch.dir, seg(1));
    const next = join(scratch.dir, seg(5));
    expect(segmentRecords(scratch.dir, seg(1)).at(-1)).toMatchObject({ seq: 4, type: 'seal', data: { next: seg(5) } });
    expect(segmentFiles(scratch.dir)).toEqual(step === 'sealed' ? [seg(1)] : [seg(1), seg(5)]);
    if (step === 'created') expect(segmentRecords(scratch.dir, seg(5))).toEqual([]);
    expect(lsattr(sealed).includes('i')).toBe(step === 'flagged');
    if (step !== 'sealed') expect(lsattr(next).includes('a')).toBe(step === 'flagged');

    const before = await verifyLog(scratch.dir);
    expect(before).toMatchObject({ status: 'intact', tampered: [], tornTail: null, records: 4 });

    const log = await AppendOnlyLog.open(scratch.dir, { protect: 'required' });
    const head = await log.append({ after: step });
    await log.close();
    expect(head.seq).toBe(5);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(5)]);
    expect(lsattr(scratch.dir)).toContain('a');
    expect(lsattr(sealed)).toContain('i');
    expect(lsattr(next)).toContain('a');
    expect(lsattr(next)).not.toContain('i');
    checkLinks(scratch.dir);
    const after = await verifyLog(scratch.dir);
    expect(after).toMatchObject({ status: 'intact', tampered: [], records: 5 });
    const records = await chain(scratch.dir);
    for (const [seq, hash] of writer.acknowledged) expect(records.get(seq)).toBe(hash);
  });

  it.each(STEPS)('killed after the step "%s" of a rotation by size: every acknowledged record is kept, and writing goes on', async (step) => {
    const open = { rotate: { maxBytes: 1024 }, protect: 'required' as const };
    const writer = startSegmentWriter({ dir: scratch.dir, count: 100, concurrency: 4, pad: 100, open }, { FS_APPEND_ONLY_TEST_KILL_AT: step });
    expect((await writer.exited).signal).toBe('SIGKILL');
    expect(writer.errors).toEqual([]);
    expect(segmentFiles(scratch.dir).length).toBe(step === 'sealed' ? 1 : 2);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', tampered: [], tornTail: null });

    const again = startSegmentWriter({ dir: scratch.dir, count: 20, concurrency: 4, pad: 100, open });
    const exit = await again.exited;
    expect([exit.code, again.errors]).toEqual([0, []]);
    const names = segmentFiles(scratch.dir);
    expect(names.length).toBeGreaterThan(2);
    checkLinks(scratch.dir);
    for (const name of names.slice(0, -1)) expect(lsattr(join(scratch.dir, name))).toContain('i');
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', tampered: [] });
    const records = await chain(scratch.dir);
    expect([...records.keys()]).toEqual(Array.from({ length: records.size }, (_, i) => i + 1));
    for (const [seq, hash] of [...writer.acknowledged, ...again.acknowledged]) expect(records.get(seq)).toBe(hash);
  });
});
