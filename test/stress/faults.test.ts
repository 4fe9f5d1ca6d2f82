// Faults under the log: a full disk, a read-only remount, a directory it may not write, and the file
// deleted or replaced under it. Each is a clear error, and no acknowledged record is lost.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { AppendOnlyError, AppendOnlyLog, type Head, readLog, verifyLog } from '../../lib/index';
import { DIST, type Mount, makeTempDir, mountImage, removeTree, runNode } from '../linux/helpers';

let mounted: Mount | null = null;
afterEach(() => {
  mounted?.unmount();
  mounted = null;
});

async function recordsBySeq(path: string): Promise<Map<number, string>> {
  const records = new Map<number, string>();
  for await (const record of readLog(path)) records.set(record.seq, record.hash);
  return records;
}

describe('a full disk', () => {
  it('append rejects with ENOSPC, nothing acknowledged is lost, and appends resume once space is freed', async () => {
    mounted = mountImage('ext4', 16);
    const path = join(mounted.dir, 'audit.log');
    const filler = join(mounted.dir, 'filler');
    const log = await AppendOnlyLog.open(path);
    await log.append({ before: 'filling' });
    // Leave a little room, then append 4 KB records until the disk refuses.
    spawnSync('fallocate', ['-l', '14M', filler]);
    const acknowledged: Head[] = [];
    let failure: unknown = null;
    for (let i = 0; i < 5000 && failure === null; i += 1) {
      await log.append({ i, pad: 'x'.repeat(4000) }).then((head) => acknowledged.push(head), (error: unknown) => (failure = error));
    }
    expect(failure).toBeInstanceOf(AppendOnlyError);
    expect(failure).toMatchObject({ code: 'ENOSPC', message: expect.stringContaining('acknowledged record is intact') });

    rmSync(filler);
    const resumed = await log.append({ after: 'space freed' });
    await log.close();
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'intact', tampered: [], tornTail: null });
    expect(report.head!.seq).toBe(resumed.seq);
    const records = await recordsBySeq(path);
    for (const head of acknowledged) expect(records.get(head.seq)).toBe(head.hash);
  });
});

describe('a full disk with durability none', () => {
  it('appends resolve once buffered; the write that fails makes the next call reject, naming the lost seqs', async () => {
    mounted = mountImage('ext4', 16);
    const path = join(mounted.dir, 'audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    const kept = await log.append({ before: 'filling' });
    await log.flush();
    spawnSync('fallocate', ['-l', '15M', join(mounted.dir, 'filler')]);
    // Buffered appends resolve at once; one of the writes they cause runs out of space.
    let failure: unknown = null;
    for (let i = 0; i < 2000 && failure === null; i += 1) {
      await log.append({ i, pad: 'x'.repeat(4000) }).catch((error: unknown) => (failure = error));
      if (i % 50 === 49) await log.flush().catch((error: unknown) => (failure = error));
    }
    expect(failure).toBeInstanceOf(AppendOnlyError);
    expect((failure as Error).message).toMatch(/^ENOSPC: records? \d+( to \d+)? of .* were lost when writing them failed/);
    rmSync(join(mounted.dir, 'filler'));
    await log.append({ after: 'space freed' });
    await log.close();
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'intact', tampered: [] });
    expect((await recordsBySeq(path)).get(kept.seq)).toBe(kept.hash);
  });
});

describe('a read-only filesystem', () => {
  // The kernel refuses to remount read-only while a file is open for writing, so the log meets EROFS
  // when it is opened.
  it('opening rejects with EROFS naming the cause; the log still verifies, and goes on once writable', async () => {
    mounted = mountImage('ext4');
    const path = join(mounted.dir, 'audit.log');
    const log = await AppendOnlyLog.open(path);
    const first = await log.append({ n: 1 });
    await log.close();
    expect(spawnSync('mount', ['-o', 'remount,ro', mounted.dir]).status).toBe(0);
    await expect(AppendOnlyLog.open(path)).rejects.toMatchObject({ code: 'EROFS', message: expect.stringContaining('mounted read-only') });
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 1 });
    expect(spawnSync('mount', ['-o', 'remount,rw', mounted.dir]).status).toBe(0);
    const reopened = await AppendOnlyLog.open(path);
    await reopened.append({ n: 2 });
    await reopened.close();
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 2 });
    expect((await recordsBySeq(path)).get(first.seq)).toBe(first.hash);
  });
});

describe('permissions', () => {
  it('a directory the process may not write: EACCES with the cause, nothing created', () => {
    const dir = makeTempDir();
    try {
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      chmodSync(dir, 0o755);
      chmodSync(locked, 0o755);
      const result = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '-e',
          `require(${JSON.stringify(DIST)}).AppendOnlyLog.open(process.argv[1]).then(() => console.log('opened'), (e) => console.log(e.code + ' ' + e.message));`,
          '--', join(locked, 'audit.log')],
        { encoding: 'utf8' },
      );
      expect(result.stdout).toMatch(/^EACCES EACCES: permission denied, open .*may not open or create the log/);
    } finally {
      removeTree(dir);
    }
  });
});

describe('the file deleted or replaced', () => {
  let dir: string;
  afterEach(() => removeTree(dir));

  it.each([
    ['deleted', (path: string) => unlinkSync(path), 'deleted'],
    ['replaced by another file', (path: string) => {
      writeFileSync(`${path}.new`, '');
      renameSync(`${path}.new`, path);
    }, 'renamed or replaced'],
    ['replaced by a symlink', (path: string) => {
      writeFileSync(`${path}.elsewhere`, '');
      unlinkSync(path);
      symlinkSync(`${path}.elsewhere`, path);
    }, 'renamed or replaced'],
  ])('while open (%s): appends fail with ERR_LOG_REPLACED, sync and async', async (_, replace, what) => {
    dir = makeTempDir();
    const path = join(dir, 'audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 1 });
    replace(path);
    await expect(log.append({ n: 2 })).rejects.toMatchObject({ code: 'ERR_LOG_REPLACED', message: expect.stringContaining(`was ${what} while open`) });
    expect(() => log.appendSync({ n: 3 })).toThrow(expect.objectContaining({ code: 'ERR_LOG_REPLACED' }));
    await log.close();
  });

  it('replaced by a symlink between opens: ELOOP, and the target is untouched', async () => {
    dir = makeTempDir();
    const path = join(dir, 'audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 1 });
    await log.close();
    renameSync(path, join(dir, 'moved.log'));
    symlinkSync(join(dir, 'moved.log'), path);
    await expect(AppendOnlyLog.open(path)).rejects.toMatchObject({ code: 'ELOOP' });
    expect(await verifyLog(join(dir, 'moved.log'))).toMatchObject({ status: 'intact', records: 1 });
    const result = runNode(
      `require(${JSON.stringify(DIST)}).AppendOnlyLog.open(process.argv[1]).catch((e) => console.log(e.code))`,
      { args: [path] },
    );
    expect(result.stdout.trim()).toBe('ELOOP');
  });
});
