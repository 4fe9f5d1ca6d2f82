// Edge cases of the log's promises: since and anchors, keys on reopen, NUL debris, call order, segment names.
import { appendFileSync, closeSync, constants, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadBinding } from '../../lib/binding';
import { AppendOnlyLog, readLog, verifyLog } from '../../lib/index';
import { KEY_1, readLines, useScratch, writeLines, writeLog } from './helpers';

const scratch = useScratch();

const WRONG_K1 = { id: 'k1', secret: 'not the secret that signed k1 !!' };

async function seqsOf(path: string): Promise<{ seq: number; data: unknown }[]> {
  const out: { seq: number; data: unknown }[] = [];
  for await (const record of readLog(path)) out.push({ seq: record.seq, data: record.data });
  return out;
}

describe('verifyLog since a head that is a seal record', () => {
  // Guards against this: when the head of a directory log is the seal of a segment
  // whose successor holds no record yet (right after a rotation), report.head names that seal. Passing
  // it back as `since` skips the seal record, so the verifier never learns that the segment is sealed
  // and reports the untouched log as tampered ('unsealed-segment').
  it('a daily `since = report.head` check right after a rotation stays intact', async () => {
    const dir = scratch.path('audit');
    const log = await AppendOnlyLog.open(dir, { rotate: {}, durability: 'none' });
    await log.append({ n: 1 });
    await log.rotate();
    await log.flush();
    const first = await verifyLog(dir);
    expect(first.status).toBe('intact');
    await log.append({ n: 2 });
    await log.close();

    const second = await verifyLog(dir, { since: first.head! });
    expect(second.tampered).toEqual([]);
    expect(second.status).toBe('intact');
    // Without the offset (skipping to the seq) the same.
    const { offset: _offset, ...withoutOffset } = first.head!;
    expect((await verifyLog(dir, { since: withoutOffset })).status).toBe('intact');
  });
});

describe('verifyLog with both an anchor and since', () => {
  // Guards against this: records up to `since` are skipped (or not read at all with its
  // offset), so an anchor at or before since.seq is never seen, and finish() reports
  // 'anchor-mismatch' ("no record has the anchor's seq") for a log that holds it unchanged: an intact
  // log reported as tampered when a daily check keeps the last head both as anchor and as since.
  it('an anchor at the trusted since head is not a finding', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    const first = await verifyLog(path);
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    await log.append({ n: 4 });
    await log.close();
    const anchor = { seq: first.head!.seq, hash: first.head!.hash };
    const report = await verifyLog(path, { since: first.head!, anchor });
    expect(report.tampered).toEqual([]);
    expect(report.status).toBe('intact');
  });
});

describe('the key check on reopening', () => {
  // Guards against this: README says reopening "checks the key against the last record its id signed";
  // the check only looks at the very last record. If that one is unsigned (appended by a handle opened
  // without a key) or by another id, a wrong secret for an earlier id is accepted, and every later
  // record is signed with a key no verifier holds.
  it('a wrong secret for k1 is refused even when the last record is unsigned', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3, KEY_1);
    const unsigned = await AppendOnlyLog.open(path, { durability: 'none' });
    await unsigned.append({ note: 'appended without the key' });
    await unsigned.close();
    const before = readFileSync(path);

    await expect(AppendOnlyLog.open(path, { key: WRONG_K1 })).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  // Guards against this: for a directory log the check reads the tail of the active segment only;
  // right after a rotation that segment is empty, so no record is checked at all (the comment says
  // it is checked "once its active segment is caught up", which never happens).
  it('a directory log whose active segment is empty refuses a wrong secret for its key id', async () => {
    const dir = scratch.path('audit');
    const log = await AppendOnlyLog.open(dir, { rotate: {}, key: KEY_1, durability: 'none' });
    await log.append({ n: 1 });
    await log.rotate();
    await log.close();

    let opened: AppendOnlyLog | null = null;
    try {
      opened = await AppendOnlyLog.open(dir, { key: WRONG_K1, durability: 'none' });
      await opened.append({ n: 2 });
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    } finally {
      await opened?.close();
    }
    expect(opened).toBeNull();
  });
});

describe('what counts as a crash after the last record', () => {
  // Guards against this: a piece whose first byte is NUL is accepted as crash debris whatever follows
  // the NUL. README: a torn tail is "bytes ... that begin like the record the writer was writing, or
  // NUL bytes (a power cut)". Appending "\0" + any text is reported as a torn tail (intact), and the
  // writer then closes it as 'torn-tail' and verifyLog lists it under `recovered`: tampering called a crash.
  it('"\\0" followed by arbitrary text is not a torn tail', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    appendFileSync(path, Buffer.concat([Buffer.from([0]), Buffer.from('{"actor":"mallory","action":"grant admin"}')]));
    const report = await verifyLog(path);
    expect(report.tornTail).toBeNull();
    expect(report.status).toBe('tampered');
  });

  it('... and once the writer has closed it, it is still reported', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    appendFileSync(path, Buffer.concat([Buffer.from([0]), Buffer.from('mallory was here')]));
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    await log.append({ n: 4 });
    await log.close();
    const report = await verifyLog(path);
    expect(report.recovered).toEqual([]);
    expect(report.status).toBe('tampered');
  });
});

describe('call order while another holder has the lock', () => {
  // Holds the log's flock through a second open file description, as another process would.
  function holdLock(path: string): { release(): void } {
    const { binding } = loadBinding();
    if (binding === null) throw new Error('the addon is needed for this test');
    const fd = openSync(path, constants.O_RDONLY);
    expect(binding.lockSync(fd, 1)).toBe(true);
    return {
      release: () => {
        binding.lockSync(fd, 2);
        closeSync(fd);
      },
    };
  }

  // Guards against this: the queue's flush loop takes its batch out of #pending
  // before it waits for the lock, so `queue.isEmpty` is true while that batch still waits. An append
  // made once the lock is free, before the loop's next retry, starts a session and is chained ahead
  // of the appends called before it. README: "Appends are chained in call order".
  it('an append made after the lock is freed is chained after the appends queued before it', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    await log.append('first');
    await log.flush();
    const other = holdLock(path);
    const a = log.append('A (called first)');
    other.release();
    const b = log.append('B (called second)');
    const [headA, headB] = await Promise.all([a, b]);
    await log.close();
    expect(headA.seq).toBeLessThan(headB.seq);
    expect((await seqsOf(path)).map((record) => record.data)).toEqual(['first', 'A (called first)', 'B (called second)']);
  });

  // Guards against this: flushSync() writes only what is still in #pending, not the
  // batch the flush loop has taken and is waiting to write; so it returns with appends made before it
  // unwritten (a signal handler's process.exit() then drops them), and writes later appends before them.
  it('flushSync() writes every append queued before it, in call order', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    await log.append('first');
    await log.flush();
    const other = holdLock(path);
    const a = log.append('A');
    const b = log.append('B');
    other.release();
    log.flushSync();
    const inFile = readLines(path).length;
    await Promise.all([a, b]);
    await log.close();
    expect(inFile).toBe(3);
    expect((await seqsOf(path)).map((record) => record.data)).toEqual(['first', 'A', 'B']);
  });
});

describe('a segment file verified on its own', () => {
  // Guards against this: a segment's name promises the seq of its first record, but a segment
  // read on its own accepts any first record as a mid-chain start. Cutting the first records of
  // 0000000000000001.jsonl (whose name says it starts the chain) verifies intact.
  it('the first segment with its first records cut is reported', async () => {
    const dir = scratch.path('audit');
    const log = await AppendOnlyLog.open(dir, { rotate: {}, durability: 'none' });
    for (let i = 1; i <= 5; i += 1) await log.append({ i });
    await log.rotate();
    await log.close();
    const first = join(dir, readdirSync(dir).sort()[0]!);
    expect(first.endsWith('0000000000000001.jsonl')).toBe(true);
    writeLines(first, readLines(first).slice(2));
    const report = await verifyLog(first);
    expect(report.status).toBe('tampered');
  });
});

