// Directory logs in one process: rotation by size, time and rotate(), the flags, verification across segments, sealLog and pruneLog.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, pruneLog, sealLog, verifyLog } from '../../lib/index';
import { KEY_1, KEYS } from '../log/helpers';
import { DIST, chattr, lsattr, mkdirp, runNode } from './helpers';
import { type RecordLine, segmentFiles, segmentRecords, seg, useLogDirectory } from './segment-writer';

const scratch = useLogDirectory();
const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));
const at = (name: string): string => join(scratch.dir, name);

/** A directory log of `count` records, sealed after every `perSegment` of them (by rotate()). */
async function writeSegments(dir: string, count: number, perSegment: number, options: Record<string, unknown> = {}): Promise<void> {
  const log = await AppendOnlyLog.open(dir, { rotate: {}, durability: 'none', ...options });
  for (let i = 1; i <= count; i += 1) {
    await log.append({ actor: `user${i}`, id: i });
    if (i % perSegment === 0 && i < count) await log.rotate();
  }
  await log.close();
}

/** The records of every segment, checking that each continues the seal that ends the one before. */
function checkLinks(dir: string): RecordLine[][] {
  const names = segmentFiles(dir);
  const segments = names.map((name) => segmentRecords(dir, name));
  segments.forEach((records, index) => {
    if (records.length > 0) expect(names[index]).toBe(seg(records[0]!.seq));
    if (index === segments.length - 1) return;
    const last = records[records.length - 1]!;
    expect(last).toMatchObject({ type: 'seal', data: { next: names[index + 1] } });
    const following = segments[index + 1]!;
    if (following.length > 0) expect({ seq: following[0]!.seq, prev: following[0]!.prev }).toEqual({ seq: last.seq + 1, prev: last.hash });
  });
  return segments;
}

const DROP_CAPABILITY = ['--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--'];

/** Runs a command without CAP_LINUX_IMMUTABLE. */
function withoutCapability(command: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync('setpriv', [...DROP_CAPABILITY, command, ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('rotation', () => {
  it('open() creates the directory; rotate() seals the active segment with a record naming the next, and seq goes on across files', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: {} });
    await log.append({ n: 1 });
    await log.append({ n: 2 });
    await log.rotate();
    await log.append({ n: 3 });
    await log.rotate();
    const head = await log.append({ n: 4 });
    await log.close();

    expect(statSync(scratch.dir).isDirectory()).toBe(true);
    expect(head.seq).toBe(6);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(6)]);
    const segments = checkLinks(scratch.dir);
    expect(segments.map((records) => records.map((record) => record.seq))).toEqual([[1, 2, 3], [4, 5], [6]]);
    // Names sort in chain order and no two segments begin with the same line.
    const firstLines = segmentFiles(scratch.dir).map((name) => readFileSync(at(name), 'utf8').split('\n')[0]);
    expect(new Set(firstLines).size).toBe(3);

    const report = await verifyLog(scratch.dir);
    expect(report).toMatchObject({ status: 'intact', records: 6, tampered: [], startsMidChain: null, pruned: [] });
    expect(report.segments).toEqual([
      { file: seg(1), firstSeq: 1, lastSeq: 3, records: 3, sealed: true },
      { file: seg(4), firstSeq: 4, lastSeq: 5, records: 2, sealed: true },
      { file: seg(6), firstSeq: 6, lastSeq: 6, records: 1, sealed: false },
    ]);
    expect(report.head).toMatchObject({ seq: 6, hash: head.hash, segment: seg(6) });
  });

  it('maxBytes: the segment is sealed before a batch would take it past the limit, at a record boundary', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: 1500 } });
    // Awaited one by one, then 40 in one event-loop turn (one batch).
    for (let i = 0; i < 20; i += 1) await log.append({ i, pad: 'x'.repeat(100) });
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append({ i: 20 + i, pad: 'y'.repeat(100) })));
    await log.close();

    const segments = checkLinks(scratch.dir);
    expect(segments.length).toBeGreaterThan(5);
    const data = segments.flat().filter((record) => record.type === undefined);
    expect(data.map((record) => (record.data as { i: number }).i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // Each sealed segment was full: the record that opens the next one would not have fitted (with the seal).
    const names = segmentFiles(scratch.dir);
    for (const [index, name] of names.slice(0, -1).entries()) {
      const lines = readFileSync(at(name), 'utf8').split(/(?<=\n)/);
      const dataBytes = lines.slice(0, -1).reduce((sum, line) => sum + Buffer.byteLength(line), 0);
      const nextLine = readFileSync(at(names[index + 1]!), 'utf8').split(/(?<=\n)/)[0]!;
      expect(dataBytes).toBeLessThanOrEqual(1500);
      expect(dataBytes + Buffer.byteLength(nextLine) + Buffer.byteLength(lines.at(-1)!)).toBeGreaterThan(1500);
    }
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: data.length + names.length - 1 });
  });

  it('maxBytes: no segment file, its seal included, grows past the limit unless one record alone is larger', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: 1000 } });
    for (let i = 0; i < 12; i += 1) await log.append({ i, pad: 'x'.repeat(100) });
    await log.append({ big: 'z'.repeat(3000) });
    for (let i = 0; i < 6; i += 1) await log.append({ i, pad: 'x'.repeat(100) });
    await log.close();

    const oversized = segmentFiles(scratch.dir)
      .map((name) => ({ name, size: statSync(at(name)).size, largest: Math.max(...readFileSync(at(name), 'utf8').split(/(?<=\n)/).map((line) => Buffer.byteLength(line))) }))
      .filter(({ size, largest }) => size > 1000 && largest <= 1000);
    expect(oversized).toEqual([]);
    // The record larger than maxBytes is alone in its segment (with the seal after it).
    const big = checkLinks(scratch.dir).find((records) => records.some((record) => (record.data as { big?: string }).big !== undefined))!;
    expect(big.map((record) => record.type ?? 'data')).toEqual(['data', 'seal']);
  });

  it('a directory of segments reopened without rotate continues the chain and rotates only on rotate()', async () => {
    await writeSegments(scratch.dir, 6, 2);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(7)]);
    const log = await AppendOnlyLog.open(scratch.dir);
    for (let i = 0; i < 30; i += 1) await log.append({ i, pad: 'x'.repeat(2000) });
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(7)]);
    await log.rotate();
    const head = await log.append({ last: true });
    await log.close();
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(7), seg(40)]);
    expect(head.seq).toBe(40);
    checkLinks(scratch.dir);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 40 });
  });

  it('every: the first append after a UTC boundary of the period seals the segment, in the same process and after reopening', async () => {
    const period = 1000;
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { every: period } });
    const first = await log.append({ n: 1 });
    const firstTs = Date.parse(segmentRecords(scratch.dir, seg(1))[0]!.ts);
    await sleep((Math.floor(firstTs / period) + 1) * period - Date.now() + 50);
    const second = await log.append({ n: 2 });
    await log.close();
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(3);
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(3)]);

    const secondTs = Date.parse(segmentRecords(scratch.dir, seg(3))[0]!.ts);
    await sleep((Math.floor(secondTs / period) + 1) * period - Date.now() + 50);
    const reopened = await AppendOnlyLog.open(scratch.dir, { rotate: { every: period } });
    const third = await reopened.append({ n: 3 });
    await reopened.close();
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(3), seg(5)]);
    expect(third.seq).toBe(5);
    checkLinks(scratch.dir);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 5 });
  });

  it("every: 'day' and 'hour' keep the appends of one period in one segment, and no timer keeps the process alive", async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { every: 'day' } });
    for (let i = 0; i < 5; i += 1) await log.append({ i });
    await log.close();
    expect(segmentFiles(scratch.dir)).toEqual([seg(1)]);

    // A process that opens a log with a time rotation and never closes it still exits by itself.
    const other = join(scratch.base, 'hourly');
    const result = runNode(
      `const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
       AppendOnlyLog.open(process.argv[1], { rotate: { every: 'hour', maxBytes: 4096 } }).then((log) => log.append({ left: 'open' })).then(() => console.log('appended'));`,
      { args: [other] },
    );
    expect([result.status, result.signal, result.stdout.trim()]).toEqual([0, null, 'appended']);
    expect(segmentRecords(other, seg(1)).map((record) => record.data)).toEqual([{ left: 'open' }]);
  });

  it("'sync' appends made in successive event-loop turns all resolve while the segments rotate", async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: 400 } });
    const settled: Promise<string>[] = [];
    for (let i = 0; i < 200; i += 1) {
      settled.push(log.append({ i }).then(() => 'ok', (error: NodeJS.ErrnoException) => `${error.code}: ${error.message}`));
      await new Promise((wake) => setImmediate(wake));
    }
    const outcomes = await Promise.all(settled);
    await log.close();
    expect(outcomes.filter((outcome) => outcome !== 'ok').slice(0, 3)).toEqual([]);
    expect(segmentFiles(scratch.dir).length).toBeGreaterThan(20);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact' });
  });

  it('nothing renames a segment: each keeps its inode through rotations and reopening', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: {} });
    await log.append({ n: 1 });
    const inode = statSync(at(seg(1))).ino;
    await log.rotate();
    await log.append({ n: 2 });
    await log.close();
    const inodes = segmentFiles(scratch.dir).map((name) => statSync(at(name)).ino);
    expect(inodes[0]).toBe(inode);
    const again = await AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: 300 } });
    for (let i = 0; i < 5; i += 1) await again.append({ i, pad: 'x'.repeat(50) });
    await again.close();
    expect(segmentFiles(scratch.dir).slice(0, 2).map((name) => statSync(at(name)).ino)).toEqual(inodes);
    expect(segmentFiles(scratch.dir).length).toBeGreaterThan(3);
  });

  it('errors: rotate on an existing file and rotate() on a single-file log are ENOTDIR; a directory without segments and without rotate is EISDIR', async () => {
    const file = join(scratch.base, 'single.log');
    writeFileSync(file, '');
    await expect(AppendOnlyLog.open(file, { rotate: { maxBytes: 1000 } })).rejects.toMatchObject({ code: 'ENOTDIR' });
    const single = await AppendOnlyLog.open(file);
    await expect(single.rotate()).rejects.toMatchObject({ code: 'ENOTDIR' });
    await single.close();
    const empty = mkdirp(join(scratch.base, 'empty'));
    await expect(AppendOnlyLog.open(empty)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(AppendOnlyLog.open(scratch.dir, { rotate: { every: 'week' as 'day' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: '1k' as unknown as number } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(AppendOnlyLog.open(scratch.dir, { rotate: { size: 1 } as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('protection', () => {
  it('protect: the directory and the active segment are append-only, every sealed segment immutable', async () => {
    const log = await AppendOnlyLog.open(scratch.dir, { rotate: { maxBytes: 600 }, protect: 'required' });
    for (let i = 0; i < 20; i += 1) await log.append({ i, pad: 'x'.repeat(80) });
    await log.close();
    const names = segmentFiles(scratch.dir);
    expect(names.length).toBeGreaterThan(3);
    expect(lsattr(scratch.dir)).toContain('a');
    for (const name of names.slice(0, -1)) expect(lsattr(at(name))).toContain('i');
    expect(lsattr(at(names[names.length - 1]!))).toContain('a');
    expect(lsattr(at(names[names.length - 1]!))).not.toContain('i');
  });

  it('without CAP_LINUX_IMMUTABLE, rm, mv, unlinkSync and renameSync cannot remove, rename or replace any segment, nor the directory', async () => {
    await writeSegments(scratch.dir, 4, 2, { protect: 'required' });
    const [sealed, active] = segmentFiles(scratch.dir) as [string, string];
    // A segment whose own flag is cleared is still held by the directory's flag alone.
    const bare = seg(99);
    writeFileSync(at(bare), '');
    expect(lsattr(at(bare))).not.toMatch(/[ai]/);
    const outside = join(scratch.base, 'forged.jsonl');
    writeFileSync(outside, '{}\n');

    for (const name of [sealed, active, bare]) {
      expect(withoutCapability('rm', ['-f', at(name)])).toMatchObject({ status: 1, stderr: expect.stringContaining('Operation not permitted') });
      expect(withoutCapability('mv', [at(name), at(`${name}.old`)])).toMatchObject({ status: 1, stderr: expect.stringContaining('Operation not permitted') });
    }
    expect(withoutCapability('mv', [outside, at(sealed)]).status).toBe(1);
    expect(withoutCapability('mv', [scratch.dir, join(scratch.base, 'moved')]).status).toBe(1);
    expect(withoutCapability('chattr', ['-a', scratch.dir]).status).not.toBe(0);

    const script = `
      const fs = require('node:fs');
      const [dir, names, outside] = [process.argv[1], JSON.parse(process.argv[2]), process.argv[3]];
      const codes = [];
      const attempt = (call) => { try { call(); codes.push('done'); } catch (error) { codes.push(error.code); } };
      for (const name of names) {
        attempt(() => fs.unlinkSync(dir + '/' + name));
        attempt(() => fs.renameSync(dir + '/' + name, dir + '/' + name + '.old'));
      }
      attempt(() => fs.renameSync(outside, dir + '/' + names[0]));
      attempt(() => fs.renameSync(dir, dir + '.moved'));
      console.log(JSON.stringify(codes));`;
    const result = runNode(script, { args: [scratch.dir, JSON.stringify([sealed, active, bare]), outside], dropCapability: true });
    expect(JSON.parse(result.stdout)).toEqual(Array.from({ length: 8 }, () => 'EPERM'));
    // The same process may remove files elsewhere: only the flags refused it.
    expect(withoutCapability('rm', [outside]).status).toBe(0);

    expect(segmentFiles(scratch.dir)).toEqual([sealed, active, bare]);
    expect(statSync(at(sealed)).size).toBeGreaterThan(0);
  });

  it('a writer without the capability still appends and rotates in a protected directory: nothing it does deletes or renames', async () => {
    await writeSegments(scratch.dir, 2, 1, { protect: 'required' });
    const script = `
      const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
      const warnings = [];
      process.on('warning', (warning) => warnings.push(warning.code));
      (async () => {
        const log = await AppendOnlyLog.open(process.argv[1], { protect: true, rotate: { maxBytes: 400 } });
        for (let i = 0; i < 10; i += 1) await log.append({ i, pad: 'x'.repeat(80) });
        await log.rotate();
        await log.close();
        setImmediate(() => console.log(JSON.stringify({ warnings: [...new Set(warnings)] })));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const result = runNode(script, { args: [scratch.dir], dropCapability: true });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ warnings: ['FS_APPEND_ONLY_UNPROTECTED'] });
    expect(segmentFiles(scratch.dir).length).toBeGreaterThan(4);
    checkLinks(scratch.dir);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', tampered: [] });
  });
});

describe('verification across segments', () => {
  it('a segment verified on its own starts mid-chain and is intact; a single-file log whose first records were cut is still reported', async () => {
    await writeSegments(scratch.dir, 6, 2);
    const alone = await verifyLog(at(seg(4)));
    const sealRecord = segmentRecords(scratch.dir, seg(1)).at(-1)!;
    expect(alone).toMatchObject({ status: 'intact', records: 3, tampered: [], startsMidChain: { seq: 4, prev: sealRecord.hash } });
    expect(await verifyLog(at(seg(1)))).toMatchObject({ status: 'intact', startsMidChain: null });

    // A single file that is not a segment, with its first two records cut.
    const file = join(scratch.base, 'single.log');
    writeFileSync(file, readFileSync(at(seg(4)), 'utf8'));
    const cut = await verifyLog(file);
    expect(cut.status).toBe('tampered');
    expect(cut.tampered[0]).toMatchObject({ line: 1, seq: 4 });
    expect(cut.startsMidChain).toBeNull();
  });

  it('since: a head from an earlier report names its segment, and verification reads only that segment and the later ones', async () => {
    await writeSegments(scratch.dir, 6, 2);
    const first = await verifyLog(scratch.dir);
    expect(first.head).toMatchObject({ seq: 8, segment: seg(7) });
    const log = await AppendOnlyLog.open(scratch.dir);
    await log.append({ n: 7 });
    await log.rotate();
    await log.append({ n: 8 });
    await log.close();
    // Damage before the trusted head is not read again.
    const lines = readFileSync(at(seg(1)), 'utf8').replace('user1', 'mallory');
    writeFileSync(at(seg(1)), lines);
    const later = await verifyLog(scratch.dir, { since: first.head! });
    expect(later).toMatchObject({ status: 'intact', records: 3, tampered: [] });
    expect(later.segments.map((segment) => segment.file)).toEqual([seg(7), seg(11)]);
    expect(later.head).toMatchObject({ seq: 11, segment: seg(11) });
    expect((await verifyLog(scratch.dir)).tampered.map((entry) => [entry.file, entry.reason])).toEqual([[seg(1), 'hash-mismatch']]);
  });

  it('a segment deleted from the middle is a missing-segment', async () => {
    await writeSegments(scratch.dir, 6, 2);
    unlinkSync(at(seg(4)));
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered).toContainEqual(expect.objectContaining({ file: seg(1), reason: 'missing-segment' }));
  });

  it('segments deleted from the front, with no prune record, are a missing-segment', async () => {
    await writeSegments(scratch.dir, 6, 2);
    unlinkSync(at(seg(1)));
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.startsMidChain).toMatchObject({ seq: 4 });
    expect(report.tampered.map((entry) => [entry.file, entry.reason])).toEqual([[seg(4), 'missing-segment']]);
  });

  it("a segment swapped for another log's segment of the same name is a chain-break", async () => {
    await writeSegments(scratch.dir, 6, 2);
    const other = join(scratch.base, 'other');
    await writeSegments(other, 6, 2);
    copyFileSync(join(other, seg(4)), at(seg(4)));
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered).toContainEqual(expect.objectContaining({ file: seg(4), seq: 4, reason: 'chain-break' }));
    expect(report.tampered.map((entry) => entry.reason)).not.toContain('hash-mismatch');
  });

  it('two segments whose contents were exchanged are reported', async () => {
    await writeSegments(scratch.dir, 6, 2);
    const [a, b] = [readFileSync(at(seg(4))), readFileSync(at(seg(7)))];
    writeFileSync(at(seg(4)), b);
    writeFileSync(at(seg(7)), a);
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered.map((entry) => entry.reason)).toEqual(expect.arrayContaining(['chain-break']));
  });

  it('a segment that is not the last but has no seal is an unsealed-segment', async () => {
    await writeSegments(scratch.dir, 4, 2);
    writeFileSync(at(seg(50)), '');
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered.map((entry) => [entry.file, entry.reason])).toEqual([[seg(4), 'unsealed-segment']]);
    expect(report.segments.map((segment) => segment.sealed)).toEqual([true, false, false]);
  });

  it('a seal naming a file that is not the next segment is a seal-mismatch', async () => {
    await writeSegments(scratch.dir, 4, 2);
    // Another log whose second segment starts at seq 3: it sorts between 0000…0001 and 0000…0004.
    const other = join(scratch.base, 'other');
    await writeSegments(other, 2, 1);
    copyFileSync(join(other, seg(3)), at(seg(3)));
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered).toContainEqual(expect.objectContaining({ file: seg(1), reason: 'seal-mismatch' }));
  });

  it('a segment after a seal that ends the log is a seal-mismatch', async () => {
    await writeSegments(scratch.dir, 4, 2);
    await sealLog(scratch.dir);
    chattr(['-i', at(seg(4))]);
    writeFileSync(at(seg(10)), '');
    const report = await verifyLog(scratch.dir);
    expect(report.tampered).toContainEqual(expect.objectContaining({ file: seg(4), reason: 'seal-mismatch' }));
  });
});

describe('sealLog', () => {
  it('ends a single-file log with a signed seal record naming no next segment and makes it immutable; appending is refused', async () => {
    const file = join(scratch.base, 'finished.log');
    const log = await AppendOnlyLog.open(file, { key: KEY_1 });
    await log.append({ n: 1 });
    await log.close();
    const head = await sealLog(file, { key: KEY_1 });
    expect(head.seq).toBe(2);
    const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as RecordLine & { keyId: string };
    expect(last).toMatchObject({ seq: 2, type: 'seal', data: { next: null }, keyId: KEY_1.id, hash: head.hash });
    expect(lsattr(file)).toContain('i');
    expect(await verifyLog(file, { keys: KEYS })).toMatchObject({ status: 'intact', records: 2, tampered: [] });

    await expect(AppendOnlyLog.open(file)).rejects.toMatchObject({ code: 'EPERM' });
    chattr(['-i', file]);
    await expect(AppendOnlyLog.open(file)).rejects.toMatchObject({ code: 'ERR_LOG_SEALED' });
    expect(await verifyLog(file)).toMatchObject({ status: 'intact', records: 2 });
  });

  it('on a directory log, seals the active segment and makes it immutable', async () => {
    await writeSegments(scratch.dir, 4, 2, { protect: 'required' });
    const head = await sealLog(scratch.dir);
    expect(head.seq).toBe(6);
    expect(segmentRecords(scratch.dir, seg(4)).at(-1)).toMatchObject({ seq: 6, type: 'seal', data: { next: null } });
    expect(lsattr(at(seg(4)))).toContain('i');
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 6 });
    chattr(['-i', at(seg(4))]);
    await expect(AppendOnlyLog.open(scratch.dir)).rejects.toMatchObject({ code: 'ERR_LOG_SEALED' });
  });
});

describe('pruneLog', () => {
  it('appends a prune record naming each segment before a seq, then removes them from the protected directory; the rest verifies', async () => {
    await writeSegments(scratch.dir, 8, 2, { protect: 'required' });
    const before = segmentFiles(scratch.dir);
    expect(before).toEqual([seg(1), seg(4), seg(7), seg(10)]);
    const sealOf = (name: string): RecordLine => segmentRecords(scratch.dir, name).at(-1)!;
    const expected = [
      { file: seg(1), firstSeq: 1, lastSeq: 3, lastHash: sealOf(seg(1)).hash },
      { file: seg(4), firstSeq: 4, lastSeq: 6, lastHash: sealOf(seg(4)).hash },
    ];

    // seq 7 is the first record of 0000…0007: the two segments before it go.
    expect(await pruneLog(scratch.dir, { before: 7 })).toEqual({ removed: [seg(1), seg(4)] });
    expect(segmentFiles(scratch.dir)).toEqual([seg(7), seg(10)]);
    expect(segmentRecords(scratch.dir, seg(10)).at(-1)).toMatchObject({ seq: 12, type: 'prune', data: { segments: expected } });
    expect(lsattr(scratch.dir)).toContain('a');
    expect(lsattr(at(seg(7)))).toContain('i');

    const report = await verifyLog(scratch.dir);
    expect(report).toMatchObject({ status: 'intact', tampered: [], pruned: expected, startsMidChain: { seq: 7, prev: expected[1]!.lastHash } });
    // The chain goes on after the prune.
    const log = await AppendOnlyLog.open(scratch.dir, { protect: 'required' });
    expect((await log.append({ after: 'prune' })).seq).toBe(13);
    await log.close();
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', records: 7 });
  });

  it('with a Date, removes the sealed segments whose records were all written before it, never the active one; nothing old, nothing removed', async () => {
    await writeSegments(scratch.dir, 4, 2);
    await sleep(20);
    const cutoff = new Date();
    await sleep(20);
    const log = await AppendOnlyLog.open(scratch.dir);
    await log.rotate();
    await log.append({ late: true });
    await log.close();
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(7)]);
    // 0000…0004 was sealed after the cutoff.
    expect(await pruneLog(scratch.dir, { before: cutoff })).toEqual({ removed: [seg(1)] });
    expect(await pruneLog(scratch.dir, { before: cutoff })).toEqual({ removed: [] });
    // Even a date in the future leaves the active segment.
    expect(await pruneLog(scratch.dir, { before: new Date(Date.now() + 3_600_000) })).toEqual({ removed: [seg(4)] });
    expect(segmentFiles(scratch.dir)).toEqual([seg(7)]);
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', tampered: [] });
  });

  it('signs the prune record with key, and a signed log still verifies with keys', async () => {
    await writeSegments(scratch.dir, 4, 2, { key: KEY_1 });
    await pruneLog(scratch.dir, { before: 4, key: KEY_1 });
    expect(segmentRecords(scratch.dir, seg(4)).at(-1)).toMatchObject({ type: 'prune', keyId: KEY_1.id });
    expect(await verifyLog(scratch.dir, { keys: KEYS })).toMatchObject({ status: 'intact', tampered: [], signaturesChecked: true });
  });

  it('without CAP_LINUX_IMMUTABLE: EPERM naming it after the prune record; both states verify, and pruning with the capability finishes', async () => {
    await writeSegments(scratch.dir, 6, 2, { protect: 'required' });
    const script = `
      require(${JSON.stringify(DIST)}).pruneLog(process.argv[1], { before: 4 })
        .then((result) => console.log(JSON.stringify(result)), (error) => console.log(JSON.stringify({ code: error.code, message: error.message })));`;
    const result = runNode(script, { args: [scratch.dir], dropCapability: true });
    const outcome = JSON.parse(result.stdout) as { code: string; message: string };
    expect(outcome.code).toBe('EPERM');
    expect(outcome.message).toContain('CAP_LINUX_IMMUTABLE');

    // The prune record is in the log, the segment it names is still there: intact.
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(4), seg(7)]);
    expect(segmentRecords(scratch.dir, seg(7)).at(-1)).toMatchObject({ type: 'prune', data: { segments: [expect.objectContaining({ file: seg(1) })] } });
    expect(lsattr(scratch.dir)).toContain('a');
    expect(lsattr(at(seg(1)))).toContain('i');
    const between = await verifyLog(scratch.dir);
    expect(between).toMatchObject({ status: 'intact', tampered: [], startsMidChain: null });
    expect(between.pruned.map((segment) => segment.file)).toEqual([seg(1)]);

    expect(await pruneLog(scratch.dir, { before: 4 })).toEqual({ removed: [seg(1)] });
    expect(segmentFiles(scratch.dir)).toEqual([seg(4), seg(7)]);
    expect(lsattr(scratch.dir)).toContain('a');
    expect(await verifyLog(scratch.dir)).toMatchObject({ status: 'intact', tampered: [], startsMidChain: { seq: 4 } });
  });

  it('a segment deleted behind the back of retention is still a missing-segment after a prune', async () => {
    await writeSegments(scratch.dir, 6, 2);
    await pruneLog(scratch.dir, { before: 4 });
    unlinkSync(at(seg(4)));
    const report = await verifyLog(scratch.dir);
    expect(report.status).toBe('tampered');
    expect(report.tampered.map((entry) => entry.reason)).toContain('missing-segment');
  });

  it('refuses a path that is not a directory log, and bad options', async () => {
    const file = join(scratch.base, 'single.log');
    writeFileSync(file, '');
    await expect(pruneLog(file, { before: 2 })).rejects.toMatchObject({ code: 'ENOTDIR' });
    await writeSegments(scratch.dir, 2, 1);
    await expect(pruneLog(scratch.dir, { before: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(pruneLog(scratch.dir, { before: new Date('nope') })).rejects.toBeInstanceOf(TypeError);
    await expect(pruneLog(scratch.dir, { before: 2, olderThan: 1 } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(segmentFiles(scratch.dir)).toEqual([seg(1), seg(3)]);
  });
});
