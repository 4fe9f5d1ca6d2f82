// A write fails on a full disk, and so does the catch-up after it (the recovery record that would close
// the torn bytes finds no room either). Until a catch-up succeeds, the writer's head may name a record
// the file lacks: nothing may be chained on it, even within the same event-loop turn, and once there is
// room again the log goes on from what the file holds.
import { spawnSync } from 'node:child_process';
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { AppendOnlyLog, type Head, generateCheckpointKey, readLog, verifyLog } from '../../lib/index';
import { makeTempDir, removeTree } from './helpers';

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

function tinyTmpfs(): string {
  const dir = makeTempDir();
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'fsao-stale', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount -t tmpfs: ${result.stderr}`);
  unmount = () => {
    spawnSync('umount', ['-l', dir]);
    removeTree(dir);
  };
  return dir;
}

describe('a catch-up that fails after a failed write', () => {
  it.each(['none', 'sync'] as const)("durability '%s': no record chains on what the file lacks; once there is room the log goes on intact", async (durability) => {
    const dir = tinyTmpfs();
    const path = join(dir, 'audit.log');
    const filler = join(dir, 'filler');
    const log = await AppendOnlyLog.open(path, { durability });
    await log.append({ first: true });
    const { bsize, bavail } = statfsSync(dir);
    writeFileSync(filler, Buffer.alloc((bavail - 16) * bsize, 0x66));

    // One synchronous run: appends until the disk is full, then enough more for two more 64 KiB writes
    // (the failure is settled, the catch-up after it fails), the filler removed, and more appends.
    const settled: Promise<PromiseSettledResult<Head>>[] = [];
    const append = (i: number): void => {
      settled.push(log.append({ i, pad: 'x'.repeat(900) }).then((head) => ({ status: 'fulfilled', value: head }), (reason: unknown) => ({ status: 'rejected', reason })));
    };
    let i = 0;
    while (statfsSync(dir).bavail > 0 && i < 5000) append(i++);
    for (const end = i + 400; i < end; ) append(i++);
    rmSync(filler);
    for (const end = i + 400; i < end; ) append(i++);
    const outcomes = await Promise.all(settled);
    await log.close().catch(() => undefined);

    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'intact', tampered: [] });
    const inFile = new Map<number, string>();
    for await (const record of readLog(path)) inFile.set(record.seq, record.hash);
    for (const outcome of outcomes) if (outcome.status === 'fulfilled') expect(inFile.get(outcome.value.seq)).toBe(outcome.value.hash);
    // The appends after the filler went were written.
    const last = outcomes[outcomes.length - 1]!;
    expect(last.status).toBe('fulfilled');
  });
});

describe('a head handed to a caller', () => {
  it('is a copy: changing it changes nothing the log chains next', async () => {
    const dir = makeTempDir();
    try {
      const path = join(dir, 'audit.log');
      const { signer } = generateCheckpointKey('example.com/heads');
      const log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer } });
      const first = await log.append({ n: 1 });
      first.hash = 'f'.repeat(64);
      first.seq = 40;
      // A checkpoint record is chained on the writer's own head.
      await log.checkpoint();
      const head = log.head!;
      head.hash = 'e'.repeat(64);
      await log.append({ n: 2 });
      await log.close();
      expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 3, tampered: [] });
    } finally {
      removeTree(dir);
    }
  });
});
