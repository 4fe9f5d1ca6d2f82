// The writer's contract at its edges: relative paths across chdir, a log renamed, replaced or deleted while open, signing keys on reopen, and option checks.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { AppendOnlyLog, readLog, verifyLog } from '../../lib/index';
import { KEYS, KEY_1, KEY_2, readLines, useScratch, writeLog } from './helpers';

const scratch = useScratch();
const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** What a call threw or rejected with, whether it failed at once or on first use. */
async function failure(call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
      for await (const _ of result as AsyncIterable<unknown>) break;
    } else {
      await result;
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('a relative path, then process.chdir()', () => {
  const home = process.cwd();
  afterEach(() => process.chdir(home));

  it('appends still reach the file that was opened, not a file relative to the new directory', async () => {
    process.chdir(scratch.dir);
    const log = await AppendOnlyLog.open('audit.log');
    await log.append({ n: 1 });
    mkdirSync(scratch.path('elsewhere'));
    process.chdir(scratch.path('elsewhere'));
    expect(await log.append({ n: 2 })).toMatchObject({ seq: 2 });
    expect(log.appendSync({ n: 3 })).toMatchObject({ seq: 3 });
    await log.close();
    expect(existsSync(scratch.path('elsewhere/audit.log'))).toBe(false);
    expect(await verifyLog(scratch.path('audit.log'))).toMatchObject({ status: 'intact', records: 3 });
  });

  it("with durability 'none' and a path through a subdirectory, after chdir to /", async () => {
    mkdirSync(scratch.path('logs'));
    process.chdir(scratch.dir);
    const log = await AppendOnlyLog.open('logs/audit.log', { durability: 'none' });
    process.chdir('/');
    for (let i = 0; i < 10; i += 1) await log.append({ i });
    await log.flush();
    await log.close();
    expect(await verifyLog(scratch.path('logs/audit.log'))).toMatchObject({ status: 'intact', records: 10 });
  });

  it('a file of the same name in the new directory is left alone', async () => {
    mkdirSync(scratch.path('a'));
    mkdirSync(scratch.path('b'));
    writeFileSync(scratch.path('b/audit.log'), 'not the log\n');
    process.chdir(scratch.path('a'));
    const log = await AppendOnlyLog.open('audit.log');
    process.chdir(scratch.path('b'));
    expect(await log.append({ n: 1 })).toMatchObject({ seq: 1 });
    log.appendSync({ n: 2 });
    await log.close();
    expect(readFileSync(scratch.path('b/audit.log'), 'utf8')).toBe('not the log\n');
    expect(await verifyLog(scratch.path('a/audit.log'))).toMatchObject({ status: 'intact', records: 2 });
  });

  it('a log opened by a relative path and then renamed away is reported as renamed or replaced', async () => {
    process.chdir(scratch.dir);
    const log = await AppendOnlyLog.open('audit.log');
    await log.append({ n: 1 });
    mkdirSync(scratch.path('elsewhere'));
    process.chdir(scratch.path('elsewhere'));
    renameSync(scratch.path('audit.log'), scratch.path('moved.log'));
    const error = await failure(() => log.append({ n: 2 }));
    expect(error).toMatchObject({ code: 'ERR_LOG_REPLACED' });
    expect((error as Error).message).toMatch(/renamed or replaced/);
    expect((error as Error).message).not.toMatch(/deleted/);
    await log.close().catch(() => undefined);
  });
});

describe('the log renamed, replaced or deleted while open', () => {
  async function openWithOne(): Promise<{ path: string; log: AppendOnlyLog }> {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 1 });
    return { path, log };
  }

  async function expectRefused(log: AppendOnlyLog, wording: RegExp, notWording: RegExp): Promise<void> {
    const rejected = await failure(() => log.append({ n: 2 }));
    expect(rejected).toMatchObject({ code: 'ERR_LOG_REPLACED' });
    expect((rejected as Error).message).toMatch(wording);
    expect((rejected as Error).message).not.toMatch(notWording);
    const thrown = await failure(() => log.appendSync({ n: 3 }));
    expect(thrown).toMatchObject({ code: 'ERR_LOG_REPLACED' });
    expect((thrown as Error).message).toMatch(wording);
    await log.close().catch(() => undefined);
  }

  it('renamed: the append rejects saying "renamed or replaced", and writes nothing to the moved file', async () => {
    const { path, log } = await openWithOne();
    renameSync(path, scratch.path('moved.log'));
    const before = digest(scratch.path('moved.log'));
    await expectRefused(log, /renamed or replaced/, /deleted/);
    expect(digest(scratch.path('moved.log'))).toBe(before);
  });

  it('renamed into another directory: "renamed or replaced"', async () => {
    const { path, log } = await openWithOne();
    mkdirSync(scratch.path('archive'));
    renameSync(path, scratch.path('archive/audit.log'));
    await expectRefused(log, /renamed or replaced/, /deleted/);
  });

  it('replaced by another file: "renamed or replaced", and the new file is untouched', async () => {
    const { path, log } = await openWithOne();
    writeFileSync(scratch.path('other'), 'another file\n');
    renameSync(scratch.path('other'), path);
    await expectRefused(log, /renamed or replaced/, /deleted/);
    expect(readFileSync(path, 'utf8')).toBe('another file\n');
  });

  it('renamed away and replaced by a symlink to it: "renamed or replaced"', async () => {
    const { path, log } = await openWithOne();
    renameSync(path, scratch.path('moved.log'));
    symlinkSync(scratch.path('moved.log'), path);
    await expectRefused(log, /renamed or replaced/, /deleted/);
  });

  it('deleted: the append rejects saying "deleted"', async () => {
    const { path, log } = await openWithOne();
    unlinkSync(path);
    await expectRefused(log, /deleted/, /renamed or replaced/);
  });
});

describe('reopening a signed log', () => {
  const WRONG_SECRET = { id: KEY_1.id, secret: 'another secret for the same id!!' };

  it('with the same key id and another secret: ERR_KEY_MISMATCH, the file unchanged', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3, KEY_1);
    const before = digest(path);
    const error = await failure(() => AppendOnlyLog.open(path, { key: WRONG_SECRET }));
    expect(error).toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    expect(digest(path)).toBe(before);
    expect(await verifyLog(path, { keys: KEYS })).toMatchObject({ status: 'intact', records: 3 });
  });

  it('with another secret given as a Buffer, and with durability none: the same refusal', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2, KEY_1);
    const before = digest(path);
    await expect(AppendOnlyLog.open(path, { key: { id: 'k1', secret: Buffer.alloc(32, 1) }, durability: 'none' })).rejects.toMatchObject({
      code: 'ERR_KEY_MISMATCH',
    });
    expect(digest(path)).toBe(before);
  });

  it('with another secret and a torn tail to recover: refused before any recovery record is written', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 3, KEY_1);
    appendFileSync(path, lines[2]!.replace('"seq":3', '"seq":4').slice(0, 40));
    const before = digest(path);
    await expect(AppendOnlyLog.open(path, { key: WRONG_SECRET })).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    expect(digest(path)).toBe(before);
  });

  it('whose last record is a recovery signed with the key: another secret is refused there too', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 2, KEY_1);
    appendFileSync(path, lines[1]!.replace('"seq":2', '"seq":3').slice(0, 30));
    await (await AppendOnlyLog.open(path, { key: KEY_1 })).close(); // writes a signed recovery record
    expect(JSON.parse(readLines(path).at(-1)!)).toMatchObject({ type: 'recovery', keyId: 'k1' });
    const before = digest(path);
    await expect(AppendOnlyLog.open(path, { key: WRONG_SECRET })).rejects.toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    expect(digest(path)).toBe(before);
  });

  it('with the same secret as a Buffer of the same bytes: carries on, every record verifies', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2, KEY_1);
    const log = await AppendOnlyLog.open(path, { key: { id: 'k1', secret: Buffer.from(KEY_1.secret as string) } });
    await log.append({ n: 3 });
    await log.close();
    expect(await verifyLog(path, { keys: KEYS })).toMatchObject({ status: 'intact', records: 3, tampered: [] });
  });

  it('with another key id (a rotation): carries on, and both keys verify the log', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2, KEY_1);
    const log = await AppendOnlyLog.open(path, { key: KEY_2 });
    await log.append({ rotated: true });
    await log.close();
    expect(readLines(path).map((line) => JSON.parse(line).keyId)).toEqual(['k1', 'k1', 'k2']);
    expect(await verifyLog(path, { keys: KEYS })).toMatchObject({ status: 'intact', records: 3, tampered: [] });
  });

  it('with no key: opens, and emits exactly one FS_APPEND_ONLY_UNSIGNED warning', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2, KEY_1);
    const spy = vi.spyOn(process, 'emitWarning');
    try {
      const log = await AppendOnlyLog.open(path);
      await log.append({ unsigned: 1 });
      await log.append({ unsigned: 2 });
      log.appendSync({ unsigned: 3 });
      await log.close();
      // emitWarning(warning, { code }) or emitWarning(warning, type, code).
      const codes = spy.mock.calls.map((call) => {
        const [, second, third] = call as unknown[];
        return typeof second === 'object' && second !== null ? (second as { code?: string }).code : typeof third === 'string' ? third : undefined;
      });
      expect(codes.filter((code) => code === 'FS_APPEND_ONLY_UNSIGNED')).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    expect((await verifyLog(path)).status).toBe('intact');
  });

  it('an unsigned log reopened with no key emits no FS_APPEND_ONLY_UNSIGNED warning', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2);
    const spy = vi.spyOn(process, 'emitWarning');
    try {
      const log = await AppendOnlyLog.open(path);
      await log.append({ n: 3 });
      await log.close();
      const unsigned = spy.mock.calls.filter((call) => JSON.stringify(call.slice(1)).includes('FS_APPEND_ONLY_UNSIGNED'));
      expect(unsigned).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('option checks', () => {
  const existingLog = async (): Promise<string> => {
    const path = scratch.path('existing.log');
    await writeLog(path, 1);
    return path;
  };

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a misspelt durability', { durabilty: 'none' }, 'ERR_INVALID_ARG_VALUE', 'options.durabilty'],
    ['a misspelt protect', { protected: true }, 'ERR_INVALID_ARG_VALUE', 'options.protected'],
    ["verifyLog's keys", { keys: { k1: 'x'.repeat(32) } }, 'ERR_INVALID_ARG_VALUE', 'options.keys'],
    ['a durability of the wrong type', { durability: 5 }, 'ERR_INVALID_ARG_TYPE', 'options.durability'],
    ['a protect of the wrong value', { protect: 'yes' }, 'ERR_INVALID_ARG_VALUE', 'options.protect'],
    ['a key that is a string', { key: 'k1' }, 'ERR_INVALID_ARG_TYPE', 'options.key'],
    ['an unknown durability', { durability: 'fast' }, 'ERR_INVALID_ARG_VALUE', 'options.durability'],
  ])('AppendOnlyLog.open refuses %s, %j, with a TypeError %s naming it, creating nothing', async (_, options, code, name) => {
    const path = scratch.path('new.log');
    const error = await failure(() => AppendOnlyLog.open(path, options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toContain(name);
    expect(existsSync(path)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['a string', 'short'],
    ['a Buffer', Buffer.alloc(8)],
  ])('AppendOnlyLog.open refuses a key secret of fewer than 16 bytes (%s) with a Node error code naming options.key.secret', async (_, secret) => {
    const path = scratch.path('new.log');
    const error = await failure(() => AppendOnlyLog.open(path, { key: { id: 'k1', secret } as never }));
    expect(error instanceof RangeError || error instanceof TypeError).toBe(true);
    expect(['ERR_OUT_OF_RANGE', 'ERR_INVALID_ARG_VALUE']).toContain((error as { code?: string }).code);
    expect((error as Error).message).toContain('options.key.secret');
    expect(existsSync(path)).toBe(false);
  });

  it('AppendOnlyLog.open refuses null options with ERR_INVALID_ARG_TYPE', async () => {
    const error = await failure(() => AppendOnlyLog.open(scratch.path('new.log'), null as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('a misspelt durability is never run as the default: the log is not opened at all', async () => {
    const path = await existingLog();
    const before = digest(path);
    await expect(AppendOnlyLog.open(path, { durabilty: 'none' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(digest(path)).toBe(before);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["the writer's key", { key: { k1: 'x'.repeat(32) } }, 'ERR_INVALID_ARG_VALUE', 'options.key'],
    ['a misspelt anchor', { anchr: { seq: 1, hash: 'a'.repeat(64) } }, 'ERR_INVALID_ARG_VALUE', 'options.anchr'],
    ['a misspelt since', { snce: { seq: 1, hash: 'a'.repeat(64) } }, 'ERR_INVALID_ARG_VALUE', 'options.snce'],
    ["the writer's durability", { durability: 'none' }, 'ERR_INVALID_ARG_VALUE', 'options.durability'],
    ['keys of the wrong type', { keys: 5 }, 'ERR_INVALID_ARG_TYPE', 'options.keys'],
    ['an onProgress that is not a function', { onProgress: 'yes' }, 'ERR_INVALID_ARG_TYPE', 'options.onProgress'],
  ])('verifyLog refuses %s, %j, with a TypeError %s naming it', async (_, options, code, name) => {
    const path = await existingLog();
    const error = await failure(() => verifyLog(path, options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toContain(name);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a misspelt from', { form: 2 }, 'ERR_INVALID_ARG_VALUE', 'options.form'],
    ['a misspelt limit', { limits: 2 }, 'ERR_INVALID_ARG_VALUE', 'options.limits'],
    ["verifyLog's keys", { keys: {} }, 'ERR_INVALID_ARG_VALUE', 'options.keys'],
    ['a from of the wrong type', { from: '2' }, 'ERR_INVALID_ARG_TYPE', 'options.from'],
  ])('readLog refuses %s, %j, with a TypeError %s naming it', async (_, options, code, name) => {
    const path = await existingLog();
    const error = await failure(() => readLog(path, options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toContain(name);
  });
});
