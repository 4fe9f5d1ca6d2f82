// Checkpoints and proofs of directory logs: the segments read as one chain, before and after a prune.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { proveConsistency, proveInclusion, subtreeOfStoredRange, treeOfLog, verifyCheckpoint } from '../../lib/checkpoint/log-tree';
import { CompactRange, consistencyRanges, inclusionRanges, leafHash, rootFromLeaves, verifyConsistency, verifyInclusion } from '../../lib/checkpoint/merkle';
import { AppendOnlyLog, type LogRecord, checkConsistency, checkInclusion, generateCheckpointKey, pruneLog, readLog } from '../../lib/index';
import { ROOT, makeTempDir, removeTree } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const { signer, verifier } = generateCheckpointKey('example.org/audit');
let dir = '';

beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeTree(dir));

function cli(args: string[], input = ''): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, cwd: dir, timeout: 30_000 });
}

async function records(path: string): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of readLog(path)) all.push(record);
  return all;
}

/** The root of every size 0..n of a log, from its records read back one by one. */
async function rootsBySize(path: string): Promise<string[]> {
  const range = new CompactRange();
  const roots = [range.root().toString('base64')];
  for (const record of await records(path)) {
    range.appendRecordHash(record.hash);
    roots.push(range.root().toString('base64'));
  }
  return roots;
}

interface Written {
  log: string;
  notes: { note: string; size: number; root: string }[];
}

/** A rotated log with three checkpoints, after 25, 25 and 20 more data records (its seal records count too). */
async function writeRotated(): Promise<Written> {
  const log = join(dir, 'audit');
  const writer = await AppendOnlyLog.open(log, { durability: 'none', rotate: { maxBytes: 2000 }, checkpoints: { signer } });
  const notes = [];
  for (const count of [25, 25, 20]) {
    for (let i = 0; i < count; i += 1) await writer.append({ actor: 'user', n: i });
    notes.push(await writer.checkpoint());
  }
  await writer.close();
  return { log, notes };
}

function segments(log: string): string[] {
  return readdirSync(log).filter((name) => /^\d{16}\.jsonl$/.test(name)).sort();
}

function remove(path: string): void {
  spawnSync('chattr', ['-a', '-i', join(path, '..')]);
  spawnSync('chattr', ['-a', '-i', path]);
  unlinkSync(path);
}

describe('a compact range kept for pruned records', () => {
  it('gives every subtree a proof needs from its size on, and inside it only its own subtrees', () => {
    for (let pruned = 1; pruned <= 40; pruned += 1) {
      const leaves = Array.from({ length: 80 }, (_, i) => leafHash(Buffer.alloc(32, i + 1)));
      const kept = new CompactRange();
      for (const leaf of leaves.slice(0, pruned)) kept.append(leaf);
      // Whatever it gives is right.
      for (let start = 0; start < pruned; start += 1) {
        for (let end = start + 1; end <= pruned; end += 1) {
          const part = subtreeOfStoredRange(kept, start, end);
          if (part !== null) expect(part.root().equals(rootFromLeaves(leaves.slice(start, end)))).toBe(true);
        }
      }
      const needed = (ranges: readonly (readonly [number, number])[]): boolean =>
        ranges.every(([start, end]) => start >= pruned || subtreeOfStoredRange(kept, start, Math.min(end, pruned)) !== null);
      for (let size = pruned; size <= 64; size += 1) {
        // Roots, inclusion proofs of records after the prefix, and consistency proofs from an old size >= it.
        expect(subtreeOfStoredRange(kept, 0, pruned)).not.toBeNull();
        for (let index = pruned; index < size; index += 1) expect(needed(inclusionRanges(index, size))).toBe(true);
        for (let old = pruned; old <= size; old += 1) expect(needed(consistencyRanges(old, size))).toBe(true);
      }
    }
    // Inside the prefix, some are not kept: 3 records keep [0, 2) and [2, 3), not [1, 2).
    const three = new CompactRange();
    for (let i = 0; i < 3; i += 1) three.append(leafHash(Buffer.alloc(32, i)));
    expect(subtreeOfStoredRange(three, 1, 2)).toBeNull();
    expect(subtreeOfStoredRange(three, 0, 1)).toBeNull();
    expect(subtreeOfStoredRange(three, 0, 2)).not.toBeNull();
    expect(subtreeOfStoredRange(three, 2, 3)).not.toBeNull();
  });
});

describe('checkpoints of a directory log', () => {
  it('reads the segments as one chain: roots, checkpoints, inclusion and consistency proofs', async () => {
    const { log, notes } = await writeRotated();
    const names = segments(log);
    expect(names.length).toBeGreaterThan(3);
    const roots = await rootsBySize(log);
    for (const { note, size, root } of notes) {
      expect((await treeOfLog(log, { size })).root).toBe(root);
      expect(roots[size]).toBe(root);
      expect(await verifyCheckpoint(log, note, { keys: [verifier] })).toEqual({ ok: true, size, root });
    }
    expect((await treeOfLog(log)).size).toBe(roots.length - 1);

    // Records in several segments, proved against the last checkpoint.
    const last = notes[notes.length - 1]!;
    const all = await records(log);
    const firsts = names.map((name) => Number(name.slice(0, 16))).filter((seq) => seq <= last.size);
    const seqs = [...new Set([1, ...firsts, ...firsts.map((seq) => seq - 1).filter((seq) => seq >= 1), last.size])];
    expect(seqs.length).toBeGreaterThan(6);
    for (const seq of seqs) {
      const proof = await proveInclusion(log, seq, { size: last.size });
      expect(proof.recordHash).toBe(all[seq - 1]!.hash);
      expect(checkInclusion(proof.recordHash, proof, last.note, [verifier])).toMatchObject({ ok: true, size: last.size });
    }
    for (const [older, newer] of [
      [notes[0]!, notes[1]!],
      [notes[0]!, notes[2]!],
      [notes[1]!, notes[2]!],
    ] as const) {
      const proof = await proveConsistency(log, older.size, newer.size);
      expect(checkConsistency(older.note, newer.note, proof, [verifier])).toMatchObject({ ok: true });
    }
  });

  it('after a prune: later checkpoints verify with prunedSize, consistency from the pruned size on, no inclusion of a pruned record', async () => {
    const { log, notes } = await writeRotated();
    const roots = await rootsBySize(log);
    const hashes = (await records(log)).map((record) => record.hash);
    const { removed } = await pruneLog(log, { before: 40 });
    expect(removed.length).toBeGreaterThan(1);
    const prunedSize = Number(segments(log)[0]!.slice(0, 16)) - 1;
    expect(prunedSize).toBeGreaterThan(notes[0]!.size);
    const writer = await AppendOnlyLog.open(log, { durability: 'none', checkpoints: { signer } });
    await writer.append({ after: 'prune' });
    const after = await writer.checkpoint();
    await writer.close();

    for (const { note, size, root } of [notes[1]!, notes[2]!, after]) {
      expect(await verifyCheckpoint(log, note, { keys: [verifier] })).toEqual({ ok: true, size, root, prunedSize });
    }
    // A checkpoint of records all pruned: only a tree the prune record kept can be compared.
    const early = await verifyCheckpoint(log, notes[0]!.note, { keys: [verifier] });
    const keptRange = new CompactRange();
    for (const hash of hashes.slice(0, prunedSize)) keptRange.appendRecordHash(hash);
    if (subtreeOfStoredRange(keptRange, 0, notes[0]!.size) === null) {
      expect(early).toMatchObject({ ok: false, reason: 'pruned', size: notes[0]!.size, prunedSize });
    } else expect(early).toMatchObject({ ok: true, size: notes[0]!.size, prunedSize });

    // Every root from the pruned size on is the one the log had before the prune.
    const total = (await treeOfLog(log)).size;
    expect(total).toBe(after.size + 1);
    for (let size = prunedSize; size < roots.length; size += 1) expect((await treeOfLog(log, { size })).root).toBe(roots[size]);
    const root = (size: number): Buffer => Buffer.from(roots[size] ?? after.root, 'base64');

    // Consistency from any old size at or after the pruned one.
    for (let old = prunedSize; old <= after.size; old += 3) {
      const proof = await proveConsistency(log, old, after.size);
      const bytes = proof.hashes.map((hash) => Buffer.from(hash, 'base64'));
      expect(verifyConsistency(old, after.size, root(old), Buffer.from(after.root, 'base64'), bytes)).toBe(true);
    }
    const proof = await proveConsistency(log, notes[1]!.size, after.size);
    expect(checkConsistency(notes[1]!.note, after.note, proof, [verifier])).toMatchObject({ ok: true });
    // From before it: made when the prune record kept the subtrees needed, refused otherwise.
    for (let old = 1; old < prunedSize; old += 1) {
      const made = await proveConsistency(log, old, after.size).catch((error: { code?: string }) => error.code);
      if (typeof made === 'string') expect(made).toBe('ERR_RECORD_PRUNED');
      else expect(verifyConsistency(old, after.size, root(old), Buffer.from(after.root, 'base64'), made!.hashes.map((hash) => Buffer.from(hash, 'base64')))).toBe(true);
    }

    // Inclusion: every record left, none pruned.
    for (let seq = prunedSize + 1; seq <= Math.min(after.size, hashes.length); seq += 2) {
      const made = await proveInclusion(log, seq, { size: after.size });
      expect(made.recordHash).toBe(hashes[seq - 1]);
      expect(checkInclusion(made.recordHash, made, after.note, [verifier])).toMatchObject({ ok: true });
      const leaf = leafHash(Buffer.from(made.recordHash, 'hex'));
      expect(verifyInclusion(made.index, after.size, leaf, made.hashes.map((hash) => Buffer.from(hash, 'base64')), Buffer.from(after.root, 'base64'))).toBe(true);
    }
    await expect(proveInclusion(log, 1, { size: after.size })).rejects.toMatchObject({ code: 'ERR_RECORD_PRUNED', message: expect.stringMatching(/record 1 was pruned/) });
    await expect(proveInclusion(log, prunedSize)).rejects.toMatchObject({ code: 'ERR_RECORD_PRUNED' });
  });

  it('a deleted middle segment fails the checkpoint; a deleted first one with no prune record too', async () => {
    const { log, notes } = await writeRotated();
    const names = segments(log);
    const last = notes[2]!;
    remove(join(log, names[2]!));
    const report = await verifyCheckpoint(log, last.note, { keys: [verifier] });
    expect(report).toMatchObject({ ok: false, reason: 'record-changed', seq: Number(names[3]!.slice(0, 16)) });
    expect(report.detail).toMatch(/is missing/);
    expect(await verifyCheckpoint(log, notes[0]!.note, { keys: [verifier] })).toMatchObject({ ok: Number(names[2]!.slice(0, 16)) > notes[0]!.size + 1 });

    remove(join(log, names[0]!));
    expect(await verifyCheckpoint(log, last.note, { keys: [verifier] })).toMatchObject({ ok: false, reason: 'truncated', detail: expect.stringMatching(/no prune record kept their tree/) });
    await expect(treeOfLog(log)).rejects.toMatchObject({ code: 'ERR_RECORD_PRUNED' });
    await expect(proveConsistency(log, 1, 2)).rejects.toMatchObject({ code: 'ERR_RECORD_PRUNED' });
  });

  it('the CLI proves a record of a directory log, checks it, and verifies a kept checkpoint, before and after a prune', async () => {
    const { log, notes } = await writeRotated();
    const hashes = (await records(log)).map((record) => record.hash);
    const seq = Number(segments(log)[3]!.slice(0, 16));
    const proved = cli(['prove', log, String(seq)]);
    expect(proved.stderr).toBe('');
    expect(proved.status).toBe(0);
    const proofFile = join(dir, 'proof');
    writeFileSync(proofFile, proved.stdout);
    const checked = cli(['check-proof', proofFile, '--vkey', verifier, '--hash', hashes[seq - 1]!]);
    expect(checked.stdout).toMatch(new RegExp(`^ok: record ${seq} is in the tree of ${notes[2]!.size} records`));
    expect(checked.status).toBe(0);
    expect(cli(['check-proof', '-', '--vkey', verifier, '--hash', hashes[seq]!], proved.stdout).status).toBe(1);

    const kept = join(dir, 'kept.note');
    writeFileSync(kept, notes[2]!.note);
    const verified = cli(['verify', log, '--checkpoint-key', verifier, '--checkpoint', kept]);
    expect(verified.stdout).toMatch(new RegExp(`checkpoint ${kept}: ok, the log's first ${notes[2]!.size} records are its tree\\n`));
    expect(verified.status).toBe(0);

    await pruneLog(log, { before: 40 });
    const prunedSize = Number(segments(log)[0]!.slice(0, 16)) - 1;
    const again = cli(['verify', log, '--checkpoint-key', verifier, '--checkpoint', kept]);
    expect(again.stdout).toContain(`checkpoint ${kept}: ok, the log's first ${notes[2]!.size} records are its tree (records 1 to ${prunedSize} were pruned`);
    expect(again.status).toBe(0);
    const late = cli(['prove', log, String(prunedSize + 1)]);
    expect(late.status).toBe(0);
    expect(cli(['check-proof', '-', '--vkey', verifier, '--hash', hashes[prunedSize]!], late.stdout).status).toBe(0);
    const pruned = cli(['prove', log, '1']);
    expect(pruned.stderr).toMatch(/^fs-append-only: ERR_RECORD_PRUNED: record 1 was pruned[^\n]*\n$/);
    expect(pruned.status).not.toBe(0);
  });
});
