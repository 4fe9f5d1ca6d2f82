// AppendOnlyLog: creating, resuming from the tail, batching, bad input, torn tails and files that are not logs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { AppendOnlyError, AppendOnlyLog, MAX_DATA_BYTES, readLog, verifyLog } from '../../lib/index';
import { KEYS, KEY_1, readLines, useScratch, writeLog } from './helpers';

const scratch = useScratch();
const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('opening', () => {
  it('creates a missing log with mode 0640 and starts at seq 1', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path);
    expect(log.head).toBeNull();
    expect(statSync(path).mode & 0o777).toBe(0o640 & ~process.umask());
    expect(await log.append({ event: 'first' })).toMatchObject({ seq: 1 });
    await log.close();
  });

  it('resumes an existing log where it ended', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    const log = await AppendOnlyLog.open(path);
    expect(log.head).toEqual({ seq: 3, hash: JSON.parse(readLines(path)[2]!).hash });
    await log.append({ event: 'fourth' });
    await log.close();
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 4 });
  });

  it('treats an empty file as a new log', async () => {
    const path = scratch.path('empty.log');
    writeFileSync(path, '');
    const log = await AppendOnlyLog.open(path);
    expect((await log.append('x')).seq).toBe(1);
    await log.close();
  });

  it.each([
    ['binary bytes', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x0a, 0x00, 0xff])],
    ['plain text', Buffer.from('Nov 22 04:00:00 host sshd[1]: Accepted publickey\nNov 22 04:00:01 host cron[2]: job\n')],
    ['another JSON Lines format', Buffer.from('{"level":30,"msg":"hello"}\n{"level":40,"msg":"warn"}\n')],
    ['a log with text appended', Buffer.concat([Buffer.from('{"seq":1}\n'), Buffer.from('hello\n')])],
  ])('refuses %s as not a log, and leaves the file untouched', async (_, bytes) => {
    const path = scratch.path('other.file');
    writeFileSync(path, bytes);
    const before = digest(path);
    const error = await AppendOnlyLog.open(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppendOnlyError);
    expect(error).toMatchObject({ code: 'ERR_NOT_A_LOG', path });
    expect((error as Error).message).toContain('was not modified');
    expect(digest(path)).toBe(before);
  });

  it('refuses a symlink (ELOOP), a directory, a FIFO and a missing directory, each with its cause', async () => {
    const target = scratch.path('real.log');
    writeFileSync(target, '');
    symlinkSync(target, scratch.path('link.log'));
    await expect(AppendOnlyLog.open(scratch.path('link.log'))).rejects.toMatchObject({ code: 'ELOOP', message: expect.stringContaining('symbolic link') });
    mkdirSync(scratch.path('dir'));
    await expect(AppendOnlyLog.open(scratch.path('dir'))).rejects.toMatchObject({ code: 'EISDIR' });
    execFileSync('mkfifo', [scratch.path('fifo')]);
    await expect(AppendOnlyLog.open(scratch.path('fifo'))).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTSUP|ENXIO)$/) });
    await expect(AppendOnlyLog.open(scratch.path('missing/audit.log'))).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('directory holding the log does not exist'),
    });
  });

  it('validates its options', async () => {
    const path = scratch.path('audit.log');
    const invalid = (name: string, code = 'ERR_INVALID_ARG_VALUE') => ({ code, message: expect.stringContaining(`"${name}"`) });
    await expect(AppendOnlyLog.open(path, { durability: 'fast' as never })).rejects.toMatchObject(invalid('options.durability'));
    await expect(AppendOnlyLog.open(path, { durability: 5 as never })).rejects.toMatchObject(invalid('options.durability', 'ERR_INVALID_ARG_TYPE'));
    await expect(AppendOnlyLog.open(path, { protect: 'yes' as never })).rejects.toMatchObject(invalid('options.protect'));
    await expect(AppendOnlyLog.open(path, { durabilty: 'none' } as never)).rejects.toMatchObject(invalid('options.durabilty'));
    await expect(AppendOnlyLog.open(path, { key: { id: 'bad id!', secret: 'x'.repeat(32) } })).rejects.toMatchObject(invalid('options.key.id'));
    await expect(AppendOnlyLog.open(path, { key: 'k1' as never })).rejects.toMatchObject(invalid('options.key', 'ERR_INVALID_ARG_TYPE'));
    await expect(AppendOnlyLog.open(path, { key: { id: 'k', secret: 'short' } })).rejects.toBeInstanceOf(RangeError);
    await expect(AppendOnlyLog.open(path, { key: { id: 'k', secret: 'short' } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(AppendOnlyLog.open(3 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(existsSync(path)).toBe(false);
  });
});

describe('appending', () => {
  it('serializes and batches concurrent appends into one contiguous chain', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { key: KEY_1 });
    const heads = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append({ i })));
    expect(heads.map((head) => head.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(log.head).toEqual(heads[499]);
    await log.close();
    const records = [];
    for await (const record of readLog(path)) records.push(record);
    expect(records.map((record) => (record.data as { i: number }).i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(await verifyLog(path, { keys: KEYS })).toMatchObject({ status: 'intact', records: 500 });
  });

  it('stores the value as appended, and snapshots it at the call', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    const event = { actor: 'alice', tags: ['a', 'b'], nested: { unicode: 'é\u2028😀', n: 1.5 }, at: new Date(0) };
    const pending = log.append(event);
    event.actor = 'changed after append';
    await pending;
    await log.append('a string');
    await log.append(null);
    await log.close();
    const values = [];
    for await (const record of readLog(path)) values.push(record.data);
    expect(values).toEqual([{ actor: 'alice', tags: ['a', 'b'], nested: { unicode: 'é\u2028😀', n: 1.5 }, at: '1970-01-01T00:00:00.000Z' }, 'a string', null]);
  });

  it('rejects what JSON cannot hold, and values over the limit, writing nothing', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ ok: true });
    const size = statSync(path).size;
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [undefined, () => 1, Symbol('s'), 10n, { big: 1n }, cycle]) {
      await expect(log.append(bad)).rejects.toBeInstanceOf(TypeError);
      expect(() => log.appendSync(bad)).toThrow(TypeError);
    }
    await expect(log.append({ blob: 'x'.repeat(MAX_DATA_BYTES) })).rejects.toBeInstanceOf(RangeError);
    expect(() => log.appendSync('é'.repeat(MAX_DATA_BYTES / 2 + 1))).toThrow(RangeError);
    await log.close();
    expect(statSync(path).size).toBe(size);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 1 });
  });

  it('appendSync writes before returning, after the appends made before it, in call order', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path);
    const first = log.append({ n: 'async' });
    const sync = log.appendSync({ n: 'sync' });
    expect(sync.seq).toBe(2);
    expect(readLines(path).map((line) => JSON.parse(line).data.n)).toEqual(['async', 'sync']);
    expect((await first).seq).toBe(1);
    await log.close();
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 2 });
  });

  it("with durability 'none', appends resolve before the write, and flush() writes them", async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    for (let i = 0; i < 100; i += 1) await log.append({ i });
    await log.flush();
    expect(readLines(path)).toHaveLength(100);
    // Fast producers do not grow memory without bound: the buffer is written every 64 KiB.
    for (let i = 0; i < 2000; i += 1) void log.append({ i, pad: 'x'.repeat(200) });
    expect(readLines(path).length).toBeGreaterThan(100);
    await log.close();
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 2100 });
  });

  it('after close, append rejects and appendSync throws ERR_LOG_CLOSED; close waits for pending appends', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path);
    const pending = [log.append(1), log.append(2)];
    await log.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(2);
    await expect(log.append(3)).rejects.toMatchObject({ code: 'ERR_LOG_CLOSED' });
    expect(() => log.appendSync(3)).toThrow(expect.objectContaining({ code: 'ERR_LOG_CLOSED' }));
    await log.close();
  });

  it('two logs open on one file in one process keep one chain (the lock is per open file)', async () => {
    const path = scratch.path('audit.log');
    const [a, b] = await Promise.all([AppendOnlyLog.open(path), AppendOnlyLog.open(path)]);
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).append({ i })));
    b.appendSync({ last: true });
    await Promise.all([a.close(), b.close()]);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 201 });
  });
});

describe('torn tails', () => {
  it.each([
    ['half a record', (line: string) => line.slice(0, 40)],
    ['a whole record but its newline', (line: string) => line.slice(0, -1)],
    ['zero bytes from a crash', () => '\0'.repeat(512)],
  ])('%s: reported, then closed by a recovery record on open, never glued nor truncated', async (_, tear) => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 3, KEY_1);
    // The record a crash interrupted: the next seq, and the last record's hash as prev.
    const last = JSON.parse(lines[2]!) as { prev: string; hash: string };
    appendFileSync(path, tear(lines[2]!.replace('"seq":3', '"seq":4').replace(last.prev, last.hash)));
    const torn = readFileSync(path);

    const before = await verifyLog(path, { keys: KEYS });
    expect(before).toMatchObject({ status: 'intact', records: 3, tornTail: { offset: lines.join('').length } });

    const log = await AppendOnlyLog.open(path, { key: KEY_1 });
    expect(log.head!.seq).toBe(4); // the recovery record
    await log.append({ after: 'crash' });
    await log.close();

    expect(readFileSync(path).subarray(0, torn.length).equals(torn)).toBe(true);
    const after = await verifyLog(path, { keys: KEYS });
    expect(after).toMatchObject({ status: 'intact', records: 5, tornTail: null, tampered: [] });
    expect(after.recovered).toEqual([{ line: 4, seq: 4, offset: before.tornTail!.offset, length: before.tornTail!.length + 2 }]);
    const types = [];
    for await (const record of readLog(path)) types.push(record.type);
    expect(types).toEqual(['data', 'data', 'data', 'recovery', 'data']);
  });

  it('a file holding only a torn first record becomes a log', async () => {
    const path = scratch.path('audit.log');
    writeFileSync(path, '{"seq":1,"ts":"2026-11');
    const log = await AppendOnlyLog.open(path);
    await log.append({ first: true });
    await log.close();
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 2, recovered: [{ line: 1, seq: 1, offset: 0 }] });
  });

  it('torn bytes that a recovery record does not describe are tampering', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 2);
    appendFileSync(path, '{"seq":3,"ts"');
    const log = await AppendOnlyLog.open(path);
    await log.close();
    const recovered = readLines(path);
    recovered[2] = '{"seq":3,"ts":"2026"\n'; // the torn bytes, edited after the recovery
    writeFileSync(path, recovered.join(''));
    const report = await verifyLog(path);
    expect(report.status).toBe('tampered');
    expect(report.tampered.map((entry) => entry.reason)).toEqual(['malformed-line', 'bad-recovery']);
    expect(lines).toHaveLength(2);
  });
});
