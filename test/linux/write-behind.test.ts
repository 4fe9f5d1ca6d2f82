// Write-behind: a turn's appends past 64 KiB are written on the addon's background thread while the next
// are encoded. What each append's promise says must be what the file holds: on a disk that fills in the
// middle of such a burst, when the process exits with a write in flight, and when the log is closed
// straight after a burst.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { AppendOnlyLog, type Head, readLog, verifyLog } from '../../lib/index';
import { nativeRecordBufferClass } from '../../lib/binding';
import { DIST, type Mount, makeTempDir, removeTree, runNode } from './helpers';

beforeAll(() => {
  // The child processes load the compiled package.
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build it with npx tsc -p tsconfig.build.json`);
});

// Directories and mounts per test, flags cleared and removed afterwards even when the test fails.
let dirs: string[] = [];
let mounts: Mount[] = [];
afterEach(() => {
  for (const dir of dirs) removeTree(dir);
  for (const mounted of mounts) mounted.unmount();
  dirs = [];
  mounts = [];
});

function tempFile(): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return join(dir, 'audit.log');
}

/** A tmpfs of `sizeKiB` filled until `freePages` pages are left; returns the log's path and the filler's. */
function fullFilesystem(sizeKiB: number, freePages: number): { path: string; filler: string } {
  const dir = makeTempDir();
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'fsao-write-behind', dir], { encoding: 'utf8' });
  if (result.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount -t tmpfs: ${result.stderr}`);
  }
  mounts.push({
    dir,
    unmount() {
      // Lazy: a log a failed test left open must not keep the mount.
      spawnSync('umount', ['-l', dir]);
      removeTree(dir);
    },
  });
  const { bsize, bavail } = statfsSync(dir);
  const filler = join(dir, 'filler');
  writeFileSync(filler, Buffer.alloc((bavail - freePages) * bsize, 0x66));
  expect(statfsSync(dir).bavail).toBe(freePages);
  return { path: join(dir, 'audit.log'), filler };
}

interface InFile {
  hash: string;
  type: string;
  data: unknown;
}

async function bySeq(path: string): Promise<Map<number, InFile>> {
  const records = new Map<number, InFile>();
  for await (const record of readLog(path)) records.set(record.seq, { hash: record.hash, type: record.type, data: record.data });
  return records;
}

/** The data records in the file by the index `i` each was appended with. */
function byIndex(records: Map<number, InFile>): Map<number, Head> {
  const found = new Map<number, Head>();
  for (const [seq, record] of records) {
    if (record.type !== 'data') continue;
    const { i } = record.data as { i: number };
    expect(found.has(i)).toBe(false);
    found.set(i, { seq, hash: record.hash });
  }
  return found;
}

const LOST = /were lost when writing them failed/;

/** The seqs a lost-records error names: "records 5 to 9, 12 and 20 to 21" (or "record 5"). */
function lostSeqs(error: unknown): number[] {
  const match = /records? ([\d, to and]+?) of /.exec((error as Error).message);
  expect(match).not.toBeNull();
  const seqs: number[] = [];
  for (const range of match![1]!.split(/, | and /)) {
    const [first, last] = range.split(' to ').map(Number) as [number, number | undefined];
    for (let seq = first; seq <= (last ?? first); seq += 1) seqs.push(seq);
  }
  return seqs;
}

// Records of about 300 to 500 bytes, so a burst of 2,000 is several 64 KiB buffers.
const datum = (i: number): { i: number; pad: string } => ({ i, pad: 'x'.repeat(150 + ((i * 37) % 200)) });

describe('the native engine', () => {
  it('is what the writer uses here (else write-behind would not run on a background thread)', () => {
    expect(nativeRecordBufferClass()).toBeTypeOf('function');
  });
});

/**
 * How 2,000 appends are issued: all in one turn ('burst'), each awaited before the next, still in one turn
 * ('awaited': each is encoded and, with 'none', acknowledged at once), or in groups of 8 awaited together.
 */
type Issue = 'burst' | 'awaited' | 'groups';

async function issue(log: AppendOnlyLog, how: Issue, count: number): Promise<PromiseSettledResult<Head>[]> {
  if (how === 'burst') return Promise.allSettled(Array.from({ length: count }, (_, i) => log.append(datum(i))));
  const outcomes: PromiseSettledResult<Head>[] = [];
  const group = how === 'awaited' ? 1 : 8;
  for (let i = 0; i < count; i += group) {
    outcomes.push(...(await Promise.allSettled(Array.from({ length: Math.min(group, count - i) }, (_, n) => log.append(datum(i + n))))));
  }
  return outcomes;
}

describe('appends on a disk that fills while they are written behind', () => {
  it.each([
    ['sync', 'burst', 'flush', 'unsigned'],
    ['none', 'burst', 'flush', 'unsigned'],
    ['sync', 'burst', 'close', 'unsigned'],
    ['none', 'burst', 'close', 'unsigned'],
    ['none', 'burst', 'flush', 'signed'],
    ['none', 'awaited', 'flush', 'unsigned'],
    ['none', 'awaited', 'close', 'signed'],
    ['none', 'groups', 'flush', 'unsigned'],
    ['sync', 'groups', 'close', 'unsigned'],
  ] as const)(
    "durability '%s', issued as %s, then %s(), %s: every resolved append is in the file, no rejected one is, and the lost ones are named",
    async (durability, how, then, signing) => {
      const key = signing === 'signed' ? { id: 'k1', secret: Buffer.alloc(32, 5) } : null;
      const { path, filler } = fullFilesystem(768, 40);
      const log = await AppendOnlyLog.open(path, { durability, ...(key === null ? {} : { key }) });
      const end = (): Promise<void> => (then === 'flush' ? log.flush() : log.close());
      const issued = issue(log, how, 2000);
      // A burst's flush() or close() comes in its turn, and must wait for all of it.
      const ending = how === 'burst' ? end() : issued.then(end);
      const outcomes = await issued;
      const ended = await ending.then(
        () => null,
        (error: unknown) => error,
      );

      const resolved = new Map<number, Head>();
      const rejected: unknown[] = [];
      outcomes.forEach((outcome, i) => (outcome.status === 'fulfilled' ? resolved.set(i, outcome.value) : rejected.push(outcome.reason)));
      // The disk filled part-way: some appends were written, later ones were not.
      expect(resolved.size).toBeGreaterThan(0);
      expect(rejected.length).toBeGreaterThan(0);
      for (const reason of rejected) expect(reason).toMatchObject({ code: 'ENOSPC' });

      const inFile = byIndex(await bySeq(path));
      // No append that was rejected reached the file, and every record there is its append's { seq, hash }.
      for (const [i, head] of inFile) expect({ i, head: resolved.get(i) }).toEqual({ i, head });
      // What resolved and is not in the file: with 'sync', nothing; with 'none', exactly what the errors name.
      const missing = [...resolved].filter(([i]) => !inFile.has(i)).map(([, head]) => head.seq);
      const named = [...rejected, ended].filter((error) => error !== null && LOST.test((error as Error).message)).flatMap(lostSeqs);
      if (durability === 'sync') {
        expect(missing).toEqual([]);
        expect(named).toEqual([]);
        expect(ended).toBeNull();
      } else {
        // Appends awaited one by one are acknowledged as they are chained: the failed writes lost some.
        if (how === 'awaited') expect(missing.length).toBeGreaterThan(0);
        expect(named.sort((a, b) => a - b)).toEqual(missing.sort((a, b) => a - b));
        if (ended !== null) expect(ended).toMatchObject({ code: 'ENOSPC' });
      }

      // Room again: the log goes on from what the file holds, and verifies with nothing tampered.
      unlinkSync(filler);
      const next = then === 'close' ? await AppendOnlyLog.open(path, { durability, ...(key === null ? {} : { key }) }) : log;
      const after = await Promise.all(Array.from({ length: 300 }, (_, n) => next.append(datum(2000 + n))));
      await next.close();
      const records = await bySeq(path);
      for (const [n, head] of after.entries()) expect(records.get(head.seq)).toMatchObject({ hash: head.hash, data: datum(2000 + n) });
      const report = await verifyLog(path, key === null ? {} : { keys: { [key.id]: key.secret } });
      expect(report).toMatchObject({ status: 'intact', tamperedEntries: 0, records: records.size, head: { seq: after[after.length - 1]!.seq, hash: after[after.length - 1]!.hash } });
    },
    60_000,
  );
});

describe('process.exit() with a write in flight', () => {
  // The child appends `count` records in one turn, prints each acknowledgment as it comes, and exits in
  // that same turn: the session's setImmediate never runs, so only the exit hook writes what is left.
  const child = (path: string, exitAfterAcks: boolean): string => `
    const fs = require('node:fs');
    const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
    (async () => {
      const log = await AppendOnlyLog.open(${JSON.stringify(path)}, { durability: 'none' });
      await log.append({ i: -1, first: true });
      await new Promise((ended) => setImmediate(ended));
      const count = 3000;
      for (let i = 0; i < count; i += 1) {
        log.append({ i, pad: 'x'.repeat(150 + ((i * 37) % 200)) }).then((head) => fs.writeSync(1, JSON.stringify(head) + '\\n'));
      }
      if (!${exitAfterAcks}) process.exit(0);
      // Microtasks only: the acknowledgments above run first, and the turn does not end.
      let hops = Promise.resolve();
      for (let n = 0; n < 100; n += 1) hops = hops.then(() => undefined);
      hops.then(() => {
        fs.writeSync(1, 'exit\\n');
        process.exit(0);
      });
    })();
  `;

  it.each([
    ['after the acknowledgments that came in its turn', true],
    ['at once, in the turn of the burst', false],
  ])('%s: every acknowledged record, and every record appended, is in the file', async (_, exitAfterAcks) => {
    const path = tempFile();
    const result = runNode(child(path, exitAfterAcks), { timeoutMs: 60_000 });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n').filter((line) => line !== '');
    if (exitAfterAcks) expect(lines[lines.length - 1]).toBe('exit');
    const acknowledged = lines.filter((line) => line !== 'exit').map((line) => JSON.parse(line) as Head);
    if (exitAfterAcks) expect(acknowledged.length).toBeGreaterThan(0);

    const records = await bySeq(path);
    for (const head of acknowledged) expect(records.get(head.seq)?.hash).toBe(head.hash);
    // The exit hook settled the write in flight and wrote the rest: the whole burst, in call order.
    const inFile = byIndex(records);
    expect(inFile.size).toBe(3001);
    for (let i = 0; i < 3000; i += 1) expect(inFile.get(i)?.seq).toBe(i + 2);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', tamperedEntries: 0, records: 3001, tornTail: null });
    // Over 64 KiB: the burst needed more than one buffer, so a write was behind when the process exited.
    expect(readFileSync(path).length).toBeGreaterThan(4 * 64 * 1024);
  });
});

describe('close() straight after a burst', () => {
  // 10,000 appends: with 'sync', more than a session holds unsynced (8,192) before it syncs in line.
  it.each(['sync', 'none'] as const)("durability '%s': every append resolves with the record the file holds, and close() waits for them", async (durability) => {
    const path = tempFile();
    const log = await AppendOnlyLog.open(path, { durability });
    const count = 10_000;
    const appends = Array.from({ length: count }, (_, i) => log.append(datum(i)));
    const synced = log.appendSync(datum(count));
    await log.close();
    await expect(log.append(datum(count + 1))).rejects.toMatchObject({ code: 'ERR_LOG_CLOSED' });
    expect(() => log.appendSync(datum(count + 1))).toThrow(expect.objectContaining({ code: 'ERR_LOG_CLOSED' }));
    const heads = await Promise.all(appends);
    const inFile = byIndex(await bySeq(path));
    expect(inFile.size).toBe(count + 1);
    heads.forEach((head, i) => expect({ i, head: inFile.get(i) }).toEqual({ i, head }));
    expect(inFile.get(count)).toEqual(synced);
    expect(synced.seq).toBe(count + 1);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', tamperedEntries: 0, records: count + 1, tornTail: null });
  });
});

describe('two processes writing behind into one log', () => {
  // Each child appends `count` records in bursts of 500 a turn and writes every head it was given.
  const writer = (path: string, name: string, durability: string, out: string): string => `
    const fs = require('node:fs');
    const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
    (async () => {
      const log = await AppendOnlyLog.open(${JSON.stringify(path)}, { durability: ${JSON.stringify(durability)} });
      const heads = [];
      for (let turn = 0; turn < 8; turn += 1) {
        const burst = [];
        for (let n = 0; n < 500; n += 1) burst.push(log.append({ by: ${JSON.stringify(name)}, n: turn * 500 + n, pad: 'z'.repeat(200) }));
        heads.push(...(await Promise.all(burst)));
      }
      await log.close();
      fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(heads));
    })().catch((error) => {
      console.error(error);
      process.exit(1);
    });
  `;

  it.each(['sync', 'none'] as const)("durability '%s': one chain holding every record each process was given, in its order", async (durability) => {
    const path = tempFile();
    const outs = ['a', 'b'].map((name) => `${path}.${name}.json`);
    const children = ['a', 'b'].map((name, index) =>
      spawn(process.execPath, ['-e', writer(path, name, durability, outs[index]!)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 }),
    );
    const stderr = children.map((child) => {
      let text = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      return () => text;
    });
    const exits = await Promise.all(children.map((child) => once(child, 'exit')));
    expect(exits.map(([status], index) => ({ status, stderr: stderr[index]!() }))).toEqual([
      { status: 0, stderr: '' },
      { status: 0, stderr: '' },
    ]);
    const records = await bySeq(path);
    expect(records.size).toBe(8000);
    for (const [index, name] of ['a', 'b'].entries()) {
      const heads = JSON.parse(readFileSync(outs[index]!, 'utf8')) as Head[];
      expect(heads).toHaveLength(4000);
      heads.forEach((head, n) => expect({ n, record: records.get(head.seq) }).toEqual({ n, record: { hash: head.hash, type: 'data', data: { by: name, n, pad: 'z'.repeat(200) } } }));
      // Each process's records in the order it appended them.
      expect(heads.every((head, n) => n === 0 || head.seq > heads[n - 1]!.seq)).toBe(true);
    }
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', tamperedEntries: 0, records: 8000, tornTail: null, recovered: [] });
  }, 120_000);
});

describe('a worker thread terminated while it appends', () => {
  it('ends the worker only, not the process (worker pools such as piscina terminate workers)', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    // Terminated at varying moments, most of them inside a call into the addon.
    const script = `
      const { Worker } = require('node:worker_threads');
      const worker = (path) => \`
        const { parentPort } = require('node:worker_threads');
        const { AppendOnlyLog } = require(\${JSON.stringify(${JSON.stringify(DIST)})});
        (async () => {
          const log = await AppendOnlyLog.open(\${JSON.stringify(path)}, { durability: 'none' });
          parentPort.postMessage('open');
          for (let n = 0; ; n += 1) {
            const burst = [];
            for (let i = 0; i < 100; i += 1) burst.push(log.append({ n, i }));
            await Promise.all(burst);
          }
        })();
      \`;
      (async () => {
        for (let i = 0; i < 100; i += 1) {
          const running = new Worker(worker(${JSON.stringify(dir)} + '/w' + i + '.log'), { eval: true });
          await new Promise((opened) => running.once('message', opened));
          await new Promise((waited) => setTimeout(waited, i % 7));
          await running.terminate();
        }
        console.log('survived');
      })();
    `;
    const result = runNode(script, { timeoutMs: 120_000 });
    expect({ status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, signal: null, stdout: 'survived\n', stderr: '' });
  }, 150_000);
});
