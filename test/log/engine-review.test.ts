// The writer engine's staged appends and write-behind, in the middle of a burst: other handles with other
// keys and durabilities, rotateKey, appendSync, flushSync, log.head, close, a handle keeping checkpoints
// opened in the middle. What each append resolved with must be what the file holds, in call order, with
// contiguous seqs, signed by the key its handle held at the call.
import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, type Head, type LogKey, type LogRecord, generateCheckpointKey, readLog, verifyLog } from '../../lib/index';
import { nativeRecordBufferClass } from '../../lib/binding';
import { useScratch } from './helpers';

const scratch = useScratch();

const KEYS: Record<string, Buffer> = { a: Buffer.alloc(32, 1), b: Buffer.alloc(32, 2), c: Buffer.alloc(32, 3) };
const keyOf = (id: string): LogKey => ({ id, secret: KEYS[id]! });

async function records(path: string): Promise<LogRecord[]> {
  const found: LogRecord[] = [];
  for await (const record of readLog(path)) found.push(record);
  return found;
}

/** A small deterministic generator (LCG), so that a failing seed can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Outcome {
  id: number;
  keyId: string | null;
  head?: Head;
  error?: unknown;
}

/**
 * Checks the file against what each call returned: every record is a data record of one of the calls, in
 * call order, seqs contiguous, each resolved head the record's own, none missing, signed by the key its
 * handle held at the call; and the log verifies, with its keys.
 */
async function expectFileMatches(path: string, outcomes: Outcome[]): Promise<void> {
  const failed = outcomes.filter((outcome) => outcome.error !== undefined);
  expect(failed.map((outcome) => String(outcome.error))).toEqual([]);
  const byId = new Map(outcomes.map((outcome) => [outcome.id, outcome]));
  const inFile = await records(path);
  let lastId = -1;
  inFile.forEach((record, index) => {
    expect(record.seq).toBe(index + 1);
    expect(record.type).toBe('data');
    const { id } = record.data as { id: number };
    expect(id).toBeGreaterThan(lastId);
    lastId = id;
    const outcome = byId.get(id);
    expect({ id, head: outcome?.head, keyId: outcome?.keyId }).toEqual({ id, head: { seq: record.seq, hash: record.hash }, keyId: record.keyId });
    byId.delete(id);
  });
  expect([...byId.keys()]).toEqual([]);
  expect(await verifyLog(path)).toMatchObject({ status: 'intact', tamperedEntries: 0, records: inFile.length, tornTail: null, recovered: [] });
  const keyed = await verifyLog(path, { keys: KEYS });
  expect(keyed.tampered.filter((finding) => finding.reason !== 'unsigned')).toEqual([]);
}

describe('the engine under test', () => {
  it('is the addon RecordBuffer (staged appends and write-behind run on its background thread)', () => {
    expect(nativeRecordBufferClass()).toBeTypeOf('function');
  });
});

describe('bursts interleaved with every other call', () => {
  // Three handles on one file (one chain, one session), each with its own key (or none) and durability;
  // in each turn a random run of append, appendSync, log.head, flushSync and rotateKey, then the turn
  // ends, a microtask passes, or everything is awaited.
  it.each([1, 2, 3, 4, 5, 6])('seed %i: the file holds every call, in call order, as each resolved', async (seed) => {
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const path = scratch.path('audit.log');
    const keyIds = ['a', 'b', 'c', null] as const;
    const handles: { log: AppendOnlyLog; keyId: string | null }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const keyId = keyIds[i]!;
      const log = await AppendOnlyLog.open(path, { durability: i === 1 ? 'sync' : 'none', ...(keyId === null ? {} : { key: keyOf(keyId) }) });
      handles.push({ log, keyId });
    }
    const pending: Promise<Outcome>[] = [];
    let id = 0;
    for (let turn = 0; turn < 40; turn += 1) {
      const calls = 1 + Math.floor(next() * 60);
      for (let call = 0; call < calls; call += 1) {
        const handle = pick(handles);
        const roll = next();
        if (roll < 0.7) {
          const mine = id++;
          const keyId = handle.keyId;
          pending.push(
            handle.log.append({ id: mine, pad: 'p'.repeat(Math.floor(next() * 3000)) }).then(
              (head) => ({ id: mine, keyId, head }),
              (error: unknown) => ({ id: mine, keyId, error }),
            ),
          );
        } else if (roll < 0.78) {
          const mine = id++;
          const keyId = handle.keyId;
          try {
            pending.push(Promise.resolve({ id: mine, keyId, head: handle.log.appendSync({ id: mine }) }));
          } catch (error) {
            pending.push(Promise.resolve({ id: mine, keyId, error }));
          }
        } else if (roll < 0.84) {
          // The head is the last call's record, staged or not: asking for it writes what is staged.
          const head = handle.log.head;
          if (id > 0) expect(head).not.toBeNull();
        } else if (roll < 0.9) {
          handle.log.flushSync();
        } else {
          handle.keyId = pick(['a', 'b', 'c'] as const);
          handle.log.rotateKey(keyOf(handle.keyId));
        }
      }
      const end = next();
      if (end < 0.4) await new Promise((resolve) => setImmediate(resolve));
      else if (end < 0.7) await Promise.resolve();
      else if (end < 0.8) await Promise.all(pending);
    }
    const outcomes = await Promise.all(pending);
    for (const { log } of handles) await log.close();
    await expectFileMatches(path, outcomes);
  });
});

describe('a burst and the calls that need its hashes', () => {
  it('log.head in a burst is the last staged append, the one its promise later resolves with', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none', key: keyOf('a') });
    await log.append({ id: -1 });
    const appends = Array.from({ length: 50 }, (_, i) => log.append({ id: i }));
    const head = log.head;
    const heads = await Promise.all(appends);
    expect(head).toEqual(heads[heads.length - 1]);
    expect(heads.map((written) => written.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    await log.close();
  });

  it('appendSync in a burst takes the seq after the staged appends, and flushSync lets more be staged after it', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'sync', key: keyOf('b') });
    const outcomes: Promise<Outcome>[] = [];
    const add = (mine: number): void => {
      outcomes.push(log.append({ id: mine }).then((head) => ({ id: mine, keyId: 'b', head })));
    };
    for (let i = 0; i < 20; i += 1) add(i);
    const synced = log.appendSync({ id: 20 });
    expect(synced.seq).toBe(21);
    outcomes.push(Promise.resolve({ id: 20, keyId: 'b', head: synced }));
    for (let i = 21; i < 40; i += 1) add(i);
    log.flushSync();
    for (let i = 40; i < 60; i += 1) add(i);
    await log.close();
    await expectFileMatches(path, await Promise.all(outcomes));
  });

  it('two handles with different keys, alternating in one burst, sign each record with their own key', async () => {
    const path = scratch.path('audit.log');
    const first = await AppendOnlyLog.open(path, { durability: 'none', key: keyOf('a') });
    const second = await AppendOnlyLog.open(path, { durability: 'sync', key: keyOf('c') });
    const outcomes: Promise<Outcome>[] = [];
    for (let i = 0; i < 400; i += 1) {
      const log = i % 3 === 0 ? second : first;
      const keyId = log === second ? 'c' : 'a';
      outcomes.push(log.append({ id: i, pad: 'q'.repeat(i * 7) }).then((head) => ({ id: i, keyId, head })));
      if (i === 200) first.rotateKey(keyOf('b'));
      if (i === 200) outcomes.push(Promise.resolve({ id: 0.5 + i, keyId: 'b', head: first.appendSync({ id: 0.5 + i }) }));
    }
    // The records after the rotation, on the first handle, are signed by b.
    const resolved = await Promise.all(outcomes);
    for (const outcome of resolved) if (outcome.keyId === 'a' && outcome.id > 200) outcome.keyId = 'b';
    await first.close();
    await second.close();
    await expectFileMatches(path, resolved);
  });

  it('close() in a burst writes the staged appends of every handle, and they resolve', async () => {
    const path = scratch.path('audit.log');
    const first = await AppendOnlyLog.open(path, { durability: 'none' });
    const second = await AppendOnlyLog.open(path, { durability: 'none', key: keyOf('a') });
    const outcomes: Promise<Outcome>[] = [];
    for (let i = 0; i < 300; i += 1) {
      const log = i % 2 === 0 ? first : second;
      outcomes.push(log.append({ id: i }).then((head) => ({ id: i, keyId: log === first ? null : 'a', head })));
    }
    const closing = first.close();
    await expect(first.append({ id: 999 })).rejects.toMatchObject({ code: 'ERR_LOG_CLOSED' });
    await closing;
    await second.close();
    await expectFileMatches(path, await Promise.all(outcomes));
  });

  it('a handle keeping checkpoints, opened in the middle of a burst, makes checkpoints that verify', async () => {
    const path = scratch.path('audit.log');
    const { signer, verifier } = generateCheckpointKey('example.com/review');
    const plain = await AppendOnlyLog.open(path, { durability: 'none' });
    await plain.append({ id: -1 });
    const appends = Array.from({ length: 100 }, (_, i) => plain.append({ id: i, pad: 'c'.repeat(200) }));
    const opening = AppendOnlyLog.open(path, { durability: 'none', checkpoints: { signer, every: { records: 25 } } });
    appends.push(...Array.from({ length: 100 }, (_, i) => plain.append({ id: 100 + i, pad: 'c'.repeat(200) })));
    const keeping = await opening;
    await Promise.all(appends);
    for (let i = 0; i < 60; i += 1) await keeping.append({ id: 200 + i });
    const checkpoint = await keeping.checkpoint();
    await plain.close();
    await keeping.close();
    const report = await verifyLog(path, { checkpointKeys: [verifier] });
    expect(report).toMatchObject({ status: 'intact', tamperedEntries: 0, checkpoint: { size: checkpoint.size } });
    expect(checkpoint.size).toBeGreaterThanOrEqual(261);
  });
});
