// The log against the kernel and other processes: foreign writes to a protected log, records acknowledged before exit, a full disk, two handles on one file, failed protection.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { AppendOnlyLog, protectAppendOnlySync, readLog, verifyLog } from '../../lib/index';
import { encodeRecord } from '../../lib/log/format';
import { DIST, type Mount, lsattr, makeTempDir, mount, removeTree, runNode } from './helpers';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const digest = (path: string): string => sha256(readFileSync(path));
const DROP_CAPABILITY = ['--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--'];

beforeAll(() => {
  // The child processes load the compiled package.
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build it with npx tsc -p tsconfig.build.json`);
});

// A directory per test, its flags cleared and removed afterwards even when the test fails.
let dirs: string[] = [];
let mounts: Mount[] = [];
afterEach(() => {
  for (const dir of dirs) removeTree(dir);
  for (const mounted of mounts) mounted.unmount();
  dirs = [];
  mounts = [];
});
function tempFile(name = 'audit.log'): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return join(dir, name);
}

async function bySeq(path: string): Promise<Map<number, { hash: string; type: string; data: unknown }>> {
  const records = new Map<number, { hash: string; type: string; data: unknown }>();
  for await (const record of readLog(path)) records.set(record.seq, { hash: record.hash, type: record.type, data: record.data });
  return records;
}

/** Appends `bytes` as a process without CAP_LINUX_IMMUTABLE: what `echo >> file` by another user does. */
function appendAsUnprivileged(path: string, printfFormat: string): void {
  const result = spawnSync('setpriv', [...DROP_CAPABILITY, 'sh', '-c', `printf '${printfFormat}' >> "$1"`, 'sh', path], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
}

/** The one recovery record: foreign-bytes, naming exactly `expected` at `offset`. */
async function expectForeignRecovery(path: string, offset: number, expected: Buffer): Promise<void> {
  const file = readFileSync(path);
  const recoveries = [...(await bySeq(path)).values()].filter((record) => record.type === 'recovery');
  expect(recoveries.map((record) => record.data)).toEqual([{ reason: 'foreign-bytes', offset, length: expected.length, sha256: sha256(expected) }]);
  expect(file.subarray(offset, offset + expected.length).equals(expected)).toBe(true);
}

describe('foreign bytes appended to a log protected with the append-only flag', () => {
  it('a running writer goes on after a process without CAP_LINUX_IMMUTABLE appended text without a newline', async () => {
    const path = tempFile('j.log');
    const log = await AppendOnlyLog.open(path, { protect: 'required' });
    await log.append({ n: 1 });
    expect(lsattr(path)).toContain('a');
    const offset = statSync(path).size;
    appendAsUnprivileged(path, 'hi');
    expect(await log.append({ n: 2 })).toMatchObject({ seq: 3 });
    await log.close();

    expect(lsattr(path)).toContain('a');
    await expectForeignRecovery(path, offset, Buffer.from('hi~\n'));
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'tampered', records: 3, tornTail: null });
    expect(report.tampered.map((entry) => `${entry.line}:${entry.reason}`)).toEqual(['2:malformed-line']);
  });

  it('append 1; protect; echo hi >> j.log; append 2: the reopened log appends, and the line stays reported', async () => {
    const path = tempFile('j.log');
    const first = await AppendOnlyLog.open(path);
    await first.append({ n: 1 });
    await first.close();
    expect(protectAppendOnlySync(path)).toBe(true);
    const offset = statSync(path).size;
    appendAsUnprivileged(path, 'hi\\n');

    const log = await AppendOnlyLog.open(path, { protect: true });
    expect(await log.append({ n: 2 })).toMatchObject({ seq: 3 });
    await log.close();

    await expectForeignRecovery(path, offset, Buffer.from('hi\n'));
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'tampered', records: 3, tornTail: null });
    expect(report.tampered.map((entry) => `${entry.line}:${entry.reason}`)).toEqual(['2:malformed-line']);
  });

  it('binary bytes from an unprivileged process, then appendSync() and a second foreign write, then append()', async () => {
    const path = tempFile('j.log');
    const log = await AppendOnlyLog.open(path, { protect: 'required', durability: 'none' });
    await log.append({ n: 1 });
    await log.flush();
    const firstOffset = statSync(path).size;
    appendAsUnprivileged(path, '\\377\\001\\n\\376');
    expect(log.appendSync({ n: 2 })).toMatchObject({ seq: 3 });
    const secondOffset = statSync(path).size;
    appendAsUnprivileged(path, 'again\\n');
    expect(await log.append({ n: 3 })).toMatchObject({ seq: 5 });
    await log.close();

    const file = readFileSync(path);
    const records = await bySeq(path);
    expect([...records.values()].map((record) => record.type)).toEqual(['data', 'recovery', 'data', 'recovery', 'data']);
    const closedFirst = Buffer.from([0xff, 0x01, 0x0a, 0xfe, 0x7e, 0x0a]);
    expect(records.get(2)!.data).toEqual({ reason: 'foreign-bytes', offset: firstOffset, length: 6, sha256: sha256(closedFirst) });
    expect(file.subarray(firstOffset, firstOffset + 6).equals(closedFirst)).toBe(true);
    expect(records.get(4)!.data).toEqual({ reason: 'foreign-bytes', offset: secondOffset, length: 6, sha256: sha256(Buffer.from('again\n')) });
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'tampered', records: 5, tornTail: null });
    expect(report.tampered.map((entry) => `${entry.line}:${entry.reason}`)).toEqual(['2:malformed-line', '3:malformed-line', '6:malformed-line']);
  });
});

// A child that appends with durability 'none', prints the last acknowledged head, then ends as `ending` says.
function durabilityNoneChild(appends: string, ending: string): string {
  return `
    const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
    const [path, second] = process.argv.slice(1);
    (async () => {
      const log = await AppendOnlyLog.open(path, { durability: 'none' });
      const other = second ? await AppendOnlyLog.open(second, { durability: 'none' }) : null;
      let last;
      ${appends}
      console.log(JSON.stringify(last));
      ${ending}
    })();`;
}

async function expectAll(path: string, count: number, last: { seq: number; hash: string }): Promise<void> {
  expect(last.seq).toBe(count);
  const report = await verifyLog(path);
  expect(report).toMatchObject({ status: 'intact', records: count, tornTail: null, tampered: [] });
  expect(report.head).toMatchObject(last);
}

function lastLine(stdout: string): { seq: number; hash: string } {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { seq: number; hash: string };
}

describe("durability 'none': acknowledged records reach the file when the process ends", () => {
  it.each<[string, string, string, number]>([
    ['awaited appends, then process.exit(0)', 'for (let i = 0; i < 50; i++) last = await log.append({ i });', 'process.exit(0);', 50],
    [
      'unawaited appends, the last one awaited, then process.exit(0)',
      'for (let i = 0; i < 49; i++) void log.append({ i }); last = await log.append({ i: 49 });',
      'process.exit(0);',
      50,
    ],
    [
      'more than the 64 KiB buffer in one turn, then process.exit(0)',
      "for (let i = 0; i < 2999; i++) void log.append({ i, pad: 'x'.repeat(200) }); last = await log.append({ i: 2999 });",
      'process.exit(0);',
      3000,
    ],
    ['awaited appends, then process.exit(3)', 'for (let i = 0; i < 20; i++) last = await log.append({ i });', 'process.exit(3);', 20],
    ['awaited appends, then process.exitCode and a synchronous process.exit()', 'for (let i = 0; i < 20; i++) last = await log.append({ i });', 'process.exitCode = 0; process.exit();', 20],
  ])('%s', async (_, appends, ending, count) => {
    const path = tempFile();
    const result = runNode(durabilityNoneChild(appends, ending), { args: [path] });
    expect(result.signal).toBeNull();
    await expectAll(path, count, lastLine(result.stdout));
  });

  it.each<[string, string]>([
    ['an exception thrown from process.nextTick', "process.nextTick(() => { throw new Error('boom'); });"],
    ['an exception thrown from a timer in the same turn', "setTimeout(() => { throw new Error('boom'); }, 0);"],
    ['an unhandled rejection', "throw new Error('boom');"],
  ])('appends followed by %s: the process fails and every record is there', async (_, ending) => {
    const path = tempFile();
    const result = runNode(durabilityNoneChild('for (let i = 0; i < 40; i++) last = await log.append({ i });', ending), { args: [path] });
    expect(result.signal).toBeNull();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('boom');
    await expectAll(path, 40, lastLine(result.stdout));
  });

  it('two logs open in the process: both keep every acknowledged record', async () => {
    const path = tempFile('one.log');
    const second = tempFile('two.log');
    const appends = `
      let otherLast;
      for (let i = 0; i < 30; i++) { last = await log.append({ i }); otherLast = await other.append({ i }); }
      console.log(JSON.stringify(otherLast));`;
    const result = runNode(durabilityNoneChild(appends, 'process.exit(0);'), { args: [path, second] });
    expect(result.signal).toBeNull();
    const lines = result.stdout.trim().split('\n');
    await expectAll(second, 30, JSON.parse(lines[0]!) as { seq: number; hash: string });
    await expectAll(path, 30, JSON.parse(lines[1]!) as { seq: number; hash: string });
  });

  it("opening and closing many logs leaves process.listenerCount('exit') as it was after the first, with no MaxListenersExceededWarning", () => {
    const script = `
      const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
      const dir = process.argv[1];
      const warnings = [];
      process.on('warning', (warning) => warnings.push(warning.name));
      (async () => {
        // One hook for the whole process is fine; one per log that outlives it is the leak.
        const warmUp = await AppendOnlyLog.open(dir + '/warm-up.log', { durability: 'none' });
        await warmUp.close();
        const before = process.listenerCount('exit');
        const logs = [];
        for (let i = 0; i < 20; i++) logs.push(await AppendOnlyLog.open(dir + '/log' + i, { durability: 'none' }));
        for (const log of logs) await log.append({ open: true });
        const whileOpen = process.listenerCount('exit');
        await Promise.all(logs.map((log) => log.close()));
        const afterTwenty = process.listenerCount('exit');
        for (let i = 0; i < 100; i++) {
          const log = await AppendOnlyLog.open(dir + '/again.log', { durability: i % 2 ? 'none' : 'sync' });
          await log.append({ i });
          await log.close();
        }
        const afterHundred = process.listenerCount('exit');
        setImmediate(() => console.log(JSON.stringify({ before, whileOpen, afterTwenty, afterHundred, warnings })));
      })();`;
    const dir = makeTempDir();
    dirs.push(dir);
    const result = runNode(script, { args: [dir], timeoutMs: 30_000 });
    expect(result.status).toBe(0);
    const outcome = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      before: number;
      whileOpen: number;
      afterTwenty: number;
      afterHundred: number;
      warnings: string[];
    };
    expect(outcome.whileOpen).toBeLessThanOrEqual(outcome.before + 1);
    expect(outcome.afterTwenty).toBe(outcome.before);
    expect(outcome.afterHundred).toBe(outcome.before);
    expect(outcome.warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('flushSync() writes what is buffered before returning: SIGKILL right after it loses nothing', async () => {
    const path = tempFile();
    const appends = 'for (let i = 0; i < 99; i++) void log.append({ i }); last = await log.append({ i: 99 });';
    const result = runNode(durabilityNoneChild(appends, "log.flushSync(); process.kill(process.pid, 'SIGKILL');"), { args: [path] });
    expect(result.signal).toBe('SIGKILL');
    await expectAll(path, 100, lastLine(result.stdout));
  });

  it.each<[string, string]>([
    ['awaited appends', 'for (let i = 0; i < 200; i++) last = await log.append({ i, turn });'],
    ['unawaited appends, the last awaited', 'for (let i = 0; i < 199; i++) void log.append({ i, turn }); last = await log.append({ i: 199, turn });'],
  ])('a SIGTERM handler that calls flushSync() keeps every acknowledged record (%s)', async (_, appends) => {
    const path = tempFile();
    const go = `${path}.go`;
    // The appends, the acknowledgement and the wait all happen in one timer callback, so the records are
    // still buffered when the signal handler runs: the session would write them only after it.
    const script = `
      const { existsSync } = require('node:fs');
      const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
      const [path, go] = process.argv.slice(1);
      const pause = new Int32Array(new SharedArrayBuffer(4));
      (async () => {
        const log = await AppendOnlyLog.open(path, { durability: 'none' });
        process.on('SIGTERM', () => { log.flushSync(); process.exit(143); });
        // Alive until the signal: a burst's appends resolve once written, and nothing else may be left.
        setInterval(() => undefined, 1000);
        let turn = 0;
        setTimeout(async () => {
          let last;
          ${appends}
          console.log(JSON.stringify(last));
          while (!existsSync(go)) Atomics.wait(pause, 0, 0, 2);
        }, 0);
      })();`;
    const child: ChildProcess = spawn(process.execPath, ['-e', script, '--', path, go], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    try {
      await new Promise<void>((acknowledged, failed) => {
        child.stdout!.setEncoding('utf8').on('data', (text: string) => {
          stdout += text;
          if (stdout.includes('\n')) acknowledged();
        });
        child.on('exit', () => failed(new Error(`child exited early: ${stderr}`)));
      });
      child.kill('SIGTERM');
      writeFileSync(go, '');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect({ code, signal, stderr }).toEqual({ code: 143, signal: null, stderr: '' });
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await expectAll(path, 200, lastLine(stdout));
  });
});

describe("a full disk with durability 'none'", () => {
  // A tiny tmpfs filled to `freePages` free pages, so that a turn's write stops part-way.
  function fullFilesystem(sizeKiB: number, freePages: number): string {
    const dir = makeTempDir();
    const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'fsao-x', dir], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`mount -t tmpfs: ${result.stderr}`);
    mounts.push({
      dir,
      unmount() {
        spawnSync('umount', ['-l', dir]);
        removeTree(dir);
      },
    });
    const { bsize, bavail } = statfsSync(dir);
    writeFileSync(join(dir, 'filler'), Buffer.alloc((bavail - freePages) * bsize, 0x66));
    expect(statfsSync(dir).bavail).toBe(freePages);
    return join(dir, 'audit.log');
  }

  // The data that makes record `seq`'s line exactly `lineBytes` long.
  function dataOfLineLength(seq: number, lineBytes: number): { p: string } {
    const base = encodeRecord({ seq, ts: '2026-01-01T00:00:00.000Z', prev: '0'.repeat(64), type: 'data', keyId: null, dataJson: '{"p":""}' }, null).line.length;
    return { p: 'x'.repeat(lineBytes - base) };
  }

  it.each<[string, number, number, number, number]>([
    // [what, tmpfs KiB, free pages, line bytes, appends per turn]
    ['records that end on page boundaries', 128, 8, 256, 100],
    ['records cut part-way by the full disk', 128, 8, 301, 100],
    ['a turn larger than the 64 KiB buffer', 512, 40, 1000, 200],
  ])('%s: the lost-records error names exactly the acknowledged records missing from the file', async (_, sizeKiB, freePages, lineBytes, perTurn) => {
    const path = fullFilesystem(sizeKiB, freePages);
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    const acknowledged = new Map<number, string>();
    let failure: unknown = null;
    turns: for (let turn = 0; turn < 1000; turn += 1) {
      for (let i = 0; i < perTurn; i += 1) {
        try {
          const head = await log.append(dataOfLineLength(acknowledged.size + 1, lineBytes));
          acknowledged.set(head.seq, head.hash);
        } catch (error) {
          failure = error;
          break turns;
        }
      }
      await new Promise((turnEnded) => setImmediate(turnEnded));
    }
    await log.close().catch(() => undefined);

    expect(failure).toMatchObject({ code: 'ENOSPC' });
    const named = /records? (\d+)(?: to (\d+))?/.exec((failure as Error).message);
    expect(named).not.toBeNull();
    const first = Number(named![1]);
    const last = Number(named![2] ?? named![1]);

    const inFile = await bySeq(path);
    const missing = [...acknowledged].filter(([seq, hash]) => inFile.get(seq)?.hash !== hash).map(([seq]) => seq);
    // The scenario: the write that failed had put part of its records on the disk first.
    const written = [...acknowledged.keys()].filter((seq) => inFile.get(seq)?.hash === acknowledged.get(seq));
    expect(Math.max(...written) % perTurn).not.toBe(0);
    expect(missing.length).toBeGreaterThan(0);

    expect({ first, last }).toEqual({ first: missing[0], last: missing[missing.length - 1] });
    expect(missing).toEqual(Array.from({ length: last - first + 1 }, (_, index) => first + index));
    for (const [seq, hash] of acknowledged) if (seq < first) expect({ seq, hash: inFile.get(seq)?.hash }).toEqual({ seq, hash });
  });
});

// Runs `body` in a child holding logs `a` and `b` on one file; a deadlock is killed by the timeout.
function twoHandles(path: string, body: string, options: { a?: object; b?: object } = {}): ReturnType<typeof runNode> {
  const script = `
    const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
    const path = process.argv[1];
    (async () => {
      const a = await AppendOnlyLog.open(path, ${JSON.stringify(options.a ?? {})});
      const b = await AppendOnlyLog.open(path, ${JSON.stringify(options.b ?? {})});
      ${body}
      await Promise.all([a.close(), b.close()]);
      console.log('done');
    })().catch((error) => { console.error(error); process.exit(1); });`;
  return runNode(script, { args: [path], timeoutMs: 10_000 });
}

describe('two AppendOnlyLogs on one file in one process', () => {
  it.each<[string, string, unknown[], { a?: object; b?: object }?]>([
    ['a.append(x); b.appendSync(y) in the same tick', "const p = a.append('x'); b.appendSync('y'); await p;", ['x', 'y']],
    ['a.appendSync while b has a session', "const p = b.append('y'); a.appendSync('x'); await p;", ['x', 'y']],
    [
      'appendSync on each while both have appends in flight',
      "const p = [a.append('a1'), b.append('b1')]; a.appendSync('a2'); b.appendSync('b2'); await Promise.all(p);",
      ['a1', 'a2', 'b1', 'b2'],
    ],
    [
      "a.append(x); b.appendSync(y) with durability 'none'",
      "const p = a.append('x'); b.appendSync('y'); await p;",
      ['x', 'y'],
      { a: { durability: 'none' }, b: { durability: 'none' } },
    ],
    [
      'interleaved appends many times, then appendSync from both',
      "const p = []; for (let i = 0; i < 300; i++) p.push((i % 2 ? a : b).append(i)); b.appendSync('sb'); a.appendSync('sa'); await Promise.all(p);",
      [...Array.from({ length: 300 }, (_, i) => i), 'sa', 'sb'],
    ],
    ['a.close(), then b.append and b.appendSync', "await a.append('x'); await a.close(); await b.append('y'); b.appendSync('z');", ['x', 'y', 'z']],
    ['a.close() not awaited while its append is pending, then b.appendSync', "const p = a.append('x'); const c = a.close(); b.appendSync('y'); await p; await c;", ['x', 'y']],
  ])('%s: completes, both records in the file, one intact chain', async (_, body, values, options) => {
    const path = tempFile();
    const result = twoHandles(path, body, options);
    expect({ signal: result.signal, status: result.status, stderr: result.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(result.stdout.trim()).toBe('done');
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'intact', records: values.length, tampered: [], tornTail: null });
    const data = [...(await bySeq(path)).values()].map((record) => record.data);
    const order = (value: unknown): string => JSON.stringify(value);
    expect(data.map(order).sort()).toEqual(values.map(order).sort());
  });
});

describe("a failed protect: 'required'", () => {
  function ramfs(): string {
    const mounted = mount('ramfs');
    mounts.push(mounted);
    return mounted.dir;
  }

  it('on ramfs (no file flags): a file open() created is removed', async () => {
    const path = join(ramfs(), 'audit.log');
    await expect(AppendOnlyLog.open(path, { protect: 'required' })).rejects.toBeInstanceOf(Error);
    expect(existsSync(path)).toBe(false);
  });

  it('on ramfs: an existing log is left as it was', async () => {
    const path = join(ramfs(), 'audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 1 });
    await log.close();
    const before = digest(path);
    await expect(AppendOnlyLog.open(path, { protect: 'required' })).rejects.toBeInstanceOf(Error);
    expect(digest(path)).toBe(before);
  });

  it('on ramfs: an existing empty file stays, empty', async () => {
    const path = join(ramfs(), 'audit.log');
    writeFileSync(path, '');
    await expect(AppendOnlyLog.open(path, { protect: 'required', durability: 'none' })).rejects.toBeInstanceOf(Error);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBe(0);
  });

  const OPEN_REQUIRED = `
    const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
    AppendOnlyLog.open(process.argv[1], { protect: 'required' }).then(
      () => console.log('opened'),
      (error) => console.log(error.code),
    );`;

  it('without CAP_LINUX_IMMUTABLE: EPERM, and the file open() created is removed', () => {
    const path = tempFile();
    const result = runNode(OPEN_REQUIRED, { args: [path], dropCapability: true });
    expect(result.stdout.trim()).toBe('EPERM');
    expect(existsSync(path)).toBe(false);
  });

  it('without CAP_LINUX_IMMUTABLE: an existing log is left as it was, unprotected', async () => {
    const path = tempFile();
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 1 });
    await log.close();
    const before = digest(path);
    const result = runNode(OPEN_REQUIRED, { args: [path], dropCapability: true });
    expect(result.stdout.trim()).toBe('EPERM');
    expect(digest(path)).toBe(before);
    expect(lsattr(path)).not.toContain('a');
  });

  it('without CAP_LINUX_IMMUTABLE: an existing empty file stays', () => {
    const path = tempFile();
    writeFileSync(path, '');
    const result = runNode(OPEN_REQUIRED, { args: [path], dropCapability: true });
    expect(result.stdout.trim()).toBe('EPERM');
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBe(0);
  });
});
