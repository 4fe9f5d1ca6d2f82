// Checkpoints a log makes: the tree kept as it appends, notes that verify, checkpoint records verifyLog checks.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { CompactRange } from '../../lib/checkpoint/merkle';
import {
  AppendOnlyLog,
  generateCheckpointKey,
  openCheckpoint,
  pruneLog,
  readLog,
  treeOfLog,
  verifyCheckpoint,
  verifyLog,
} from '../../lib/index';
import { encodeRecord, GENESIS } from '../../lib/log/format';
import { useScratch } from './helpers';

const scratch = useScratch();
const { signer, verifier } = generateCheckpointKey('example.org/audit');
const execFileAsync = promisify(execFile);
const DIST = join(__dirname, '..', '..', 'dist', 'index.js');

/** The tree of every record of a log (a file or a directory), read back record by record. */
async function expectedRoot(path: string, size: number): Promise<string> {
  const range = new CompactRange();
  for await (const record of readLog(path)) if (range.size < size) range.appendRecordHash(record.hash);
  return range.root().toString('base64');
}

describe('checkpoints', () => {
  it('log.checkpoint() signs the tree of every record so far, appends it, and hands it to onCheckpoint', async () => {
    const path = scratch.path('audit.log');
    const published: string[] = [];
    const log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer, onCheckpoint: (note) => published.push(note) } });
    for (let i = 0; i < 37; i += 1) await log.append({ i });
    const checkpoint = await log.checkpoint();
    await log.close();

    expect(checkpoint.size).toBe(37);
    expect(checkpoint.root).toBe(await expectedRoot(path, 37));
    expect(checkpoint.note).toMatch(/^example\.org\/audit\n37\n[A-Za-z0-9+/]{43}=\n\n\u2014 example\.org\/audit [A-Za-z0-9+/=]+\n$/);
    expect(openCheckpoint(checkpoint.note, [verifier])).toMatchObject({ origin: 'example.org/audit', size: 37 });
    expect(published).toEqual([checkpoint.note]);

    const records = [];
    for await (const record of readLog(path)) records.push(record);
    expect(records.at(-1)).toMatchObject({ seq: 38, type: 'checkpoint', data: { note: checkpoint.note } });
    expect(await verifyLog(path, { checkpointKeys: [verifier] })).toMatchObject({
      status: 'intact',
      checkpoint: { seq: 38, size: 37, root: checkpoint.root },
    });
    expect(await verifyCheckpoint(path, checkpoint.note, { keys: [verifier] })).toMatchObject({ ok: true, size: 37 });
  });

  it('every.records makes checkpoints on its own, each covering the records before it', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer, every: { records: 10 } } });
    for (let i = 0; i < 50; i += 1) log.appendSync({ i });
    await log.close();
    const checkpoints = [];
    for await (const record of readLog(path)) if (record.type === 'checkpoint') checkpoints.push(record);
    expect(checkpoints.length).toBeGreaterThanOrEqual(4);
    for (const record of checkpoints) {
      const opened = openCheckpoint((record.data as { note: string }).note, [verifier]);
      expect(opened.size).toBe(record.seq - 1);
      expect(opened.root.toString('base64')).toBe(await expectedRoot(path, opened.size));
    }
    expect(await verifyLog(path, { checkpointKeys: [verifier] })).toMatchObject({ status: 'intact', tampered: [] });
  });

  it('reopened, and after another process appended, the tree still matches the file', async () => {
    const path = scratch.path('audit.log');
    let log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer } });
    for (let i = 0; i < 20; i += 1) await log.append({ i });
    await log.checkpoint();
    await log.close();

    log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer } });
    await log.append({ reopened: true });
    // Another process appends (without checkpoints) while this one has the log open.
    const script = `(async () => { const { AppendOnlyLog } = require(${JSON.stringify(DIST)}); const l = await AppendOnlyLog.open(${JSON.stringify(path)}); for (let i = 0; i < 15; i++) await l.append({ other: i }); await l.close(); })()`;
    // Asynchronously: this process holds the lock until its event-loop turn ends.
    await execFileAsync(process.execPath, ['-e', script]);
    await log.append({ after: 'other' });
    const checkpoint = await log.checkpoint();
    await log.close();
    expect(checkpoint.size).toBe(20 + 1 + 1 + 15 + 1);
    expect(checkpoint.root).toBe(await expectedRoot(path, checkpoint.size));
    expect(await verifyLog(path, { checkpointKeys: [verifier] })).toMatchObject({ status: 'intact', checkpoint: { size: checkpoint.size } });
  });

  it('a checkpoint kept before a chain rebuild fails the rebuilt log, and its record is a bad-checkpoint', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer } });
    for (let i = 0; i < 10; i += 1) await log.append({ amount: i });
    const kept = await log.checkpoint();
    await log.close();

    // Whoever can rewrite the file edits record 3 and recomputes every hash after it.
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    let prev = GENESIS;
    let text = '';
    for (const record of lines) {
      const data = record.seq === 3 ? { amount: 1000 } : record.data;
      const { line, hash } = encodeRecord({ seq: record.seq, ts: record.ts, prev, type: record.type ?? 'data', keyId: null, dataJson: JSON.stringify(data) }, null);
      text += line;
      prev = hash;
    }
    writeFileSync(path, text);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact' }); // the rebuilt chain itself is consistent
    expect(await verifyCheckpoint(path, kept.note, { keys: [verifier] })).toMatchObject({ ok: false });
    const report = await verifyLog(path, { checkpointKeys: [verifier] });
    expect(report.status).toBe('tampered');
    expect(report.tampered).toEqual([expect.objectContaining({ seq: 11, reason: 'bad-checkpoint' })]);
  });

  it('a checkpoint signed by a key not given, or not a note, is a bad-checkpoint', async () => {
    const path = scratch.path('audit.log');
    const other = generateCheckpointKey('other.example/log');
    const log = await AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer: other.signer } });
    await log.append({ a: 1 });
    await log.checkpoint();
    await log.close();
    const report = await verifyLog(path, { checkpointKeys: [verifier] });
    expect(report.tampered).toEqual([expect.objectContaining({ seq: 2, reason: 'bad-checkpoint', detail: expect.stringMatching(/does not verify/) })]);
    expect(await verifyLog(path, { checkpointKeys: [other.verifier] })).toMatchObject({ status: 'intact', checkpoint: { size: 1 } });
  });

  it('a segmented log keeps one tree across rotations and prunes; checkpoints after a prune still verify', async () => {
    const dir = scratch.path('audit');
    let log = await AppendOnlyLog.open(dir, { durability: 'none', rotate: { maxBytes: 2000 }, checkpoints: { signer } });
    for (let i = 0; i < 60; i += 1) await log.append({ i });
    const before = await log.checkpoint();
    await log.close();
    expect(readdirSync(dir).length).toBeGreaterThan(5);
    expect(before.root).toBe(await expectedRoot(dir, before.size));

    const { removed } = await pruneLog(dir, { before: 30 });
    expect(removed.length).toBeGreaterThan(0);
    log = await AppendOnlyLog.open(dir, { durability: 'none', checkpoints: { signer } });
    await log.append({ after: 'prune' });
    const after = await log.checkpoint();
    await log.close();
    // The records before the prune are gone; the tree still counts them, from the prune record's range.
    expect(after.size).toBeGreaterThan(before.size);
    const report = await verifyLog(dir, { checkpointKeys: [verifier] });
    expect(report).toMatchObject({ status: 'intact', checkpoint: { size: after.size, root: after.root } });
  });

  it('rejects bad checkpoint options with Node codes, and checkpoint() without them', async () => {
    const path = scratch.path('audit.log');
    await expect(AppendOnlyLog.open(path, { checkpoints: { signer: verifier } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(AppendOnlyLog.open(path, { checkpoints: { signer, evry: {} } as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(AppendOnlyLog.open(path, { checkpoints: { signer, every: { records: 0 } } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    const log = await AppendOnlyLog.open(path);
    await expect(log.checkpoint()).rejects.toMatchObject({ code: 'ERR_NO_CHECKPOINTS' });
    await log.close();
    expect((await treeOfLog(path)).size).toBe(0);
  });
});
