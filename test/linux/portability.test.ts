// The package where the OS cannot help: a platform without the attribute, an addon that cannot load, ESM callers.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { protectFileDescriptorSync } from '../../lib/attributes';
import { AppendOnlyLog, verifyLog } from '../../lib/index';
import { DIST, ROOT, runNode, runNodeJson, useAuditFile } from './helpers';
const audit = useAuditFile();

// Node's own tests fake the platform this way; nothing below the facade is replaced.
const AS_WINDOWS = `Object.defineProperty(process, 'platform', { value: 'win32' });`;

describe('a platform without the attribute (win32)', () => {
  it('protectAppendOnly warns once per process and returns false', () => {
    const result = runNodeJson<{ first: boolean; second: boolean; promise: boolean; warnings: string[] }>(
      `${AS_WINDOWS}
       const warnings = [];
       process.on('warning', (w) => warnings.push(w.code + ' ' + w.message));
       const api = require(${JSON.stringify(DIST)});
       const file = process.argv[1];
       const first = api.protectAppendOnlySync(file);
       const second = api.protectAppendOnlySync(file);
       api.protectAppendOnly(file).then((promise) => setImmediate(() =>
         console.log(JSON.stringify({ first, second, promise, warnings }))));`,
      { args: [audit.file] },
    );
    expect(result).toMatchObject({ first: false, second: false, promise: false });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^FS_APPEND_ONLY_UNSUPPORTED This platform \(win32\) has no append-only file attribute/);
  });

  it('with { strict: true } it throws ENOTSUP; reads are false; a missing file is still ENOENT', () => {
    const result = runNodeJson<Record<string, unknown>>(
      `${AS_WINDOWS}
       const api = require(${JSON.stringify(DIST)});
       const file = process.argv[1];
       const codeOf = (run) => { try { run(); return 'none'; } catch (e) { return e.code + (e instanceof api.AppendOnlyError ? '/AppendOnlyError' : ''); } };
       console.log(JSON.stringify({
         strict: codeOf(() => api.protectAppendOnlySync(file, { strict: true })),
         isAppendOnly: api.isAppendOnlySync(file),
         isImmutable: api.isImmutableSync(file),
         attributes: api.getFileAttributesSync(file),
         missing: codeOf(() => api.protectAppendOnlySync(file + '.missing')),
         unprotect: api.unprotectAppendOnlySync(file),
         info: api.platformSupportInfo(),
       }));`,
      { args: [audit.file] },
    );
    expect(result).toMatchObject({
      strict: 'ENOTSUP/AppendOnlyError',
      isAppendOnly: false,
      isImmutable: false,
      attributes: { appendOnly: false, immutable: false, flags: 0, filesystem: 'unknown' },
      missing: 'ENOENT/AppendOnlyError',
      unprotect: true,
      info: { platform: 'win32', supported: false, method: 'none', hasCapability: false },
    });
    expect((result.info as { notes: string }).notes).toContain('This platform (win32) has no append-only file attribute');
  });
});

describe('protectFileDescriptorSync on a platform without the attribute (win32)', () => {
  it('warns once and returns false, throws ENOTSUP with { strict: true }, and still reports a closed fd', () => {
    const result = runNodeJson<Record<string, unknown>>(
      `${AS_WINDOWS}
       const fs = require('node:fs');
       const warnings = [];
       process.on('warning', (w) => warnings.push(w.code));
       const { protectFileDescriptorSync } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
       const file = process.argv[1];
       const fd = fs.openSync(file, 'a');
       const codeOf = (run) => { try { return run(); } catch (e) { return e.code; } };
       const first = protectFileDescriptorSync(fd, file);
       const strict = codeOf(() => protectFileDescriptorSync(fd, file, { strict: true }));
       fs.closeSync(fd);
       const closed = codeOf(() => protectFileDescriptorSync(fd, file));
       setImmediate(() => console.log(JSON.stringify({ first, strict, closed, warnings })));`,
      { args: [audit.file] },
    );
    expect(result).toEqual({ first: false, strict: 'ENOTSUP', closed: 'EBADF', warnings: ['FS_APPEND_ONLY_UNSUPPORTED'] });
    expect(protectFileDescriptorSync).toBeTypeOf('function');
  });
});

describe('an addon that cannot be loaded', () => {
  // A copy of the package with its compiled facade but no build/ and no prebuilds/, as after an
  // install on a platform with neither a prebuilt binary nor a compiler.
  function packageWithoutAddon(): string {
    const copy = join(audit.dir, 'pkg');
    mkdirSync(join(copy, 'node_modules'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules', 'node-gyp-build'), join(copy, 'node_modules', 'node-gyp-build'));
    return copy;
  }

  it('importing works; attribute calls throw ERR_ADDON_UNAVAILABLE naming the cause', () => {
    const copy = packageWithoutAddon();
    const result = runNodeJson<Record<string, unknown>>(
      `const api = require(${JSON.stringify(join(copy, 'dist', 'index.js'))});
       const failure = (run) => { try { run(); return null; } catch (e) { return { code: e.code, message: e.message, fix: e.fix, isAppendOnlyError: e instanceof api.AppendOnlyError }; } };
       api.protectAppendOnly(process.argv[1]).catch((e) => {
         console.log(JSON.stringify({
           sync: failure(() => api.protectAppendOnlySync(process.argv[1])),
           read: failure(() => api.isAppendOnlySync(process.argv[1])),
           promise: e.code,
           info: api.platformSupportInfo(),
         }));
       });`,
      { args: [audit.file] },
    );
    expect(result.sync).toMatchObject({ code: 'ERR_ADDON_UNAVAILABLE', isAppendOnlyError: true });
    expect((result.sync as { message: string }).message).toContain('No native build was found');
    expect((result.sync as { fix: string }).fix).toContain('npm rebuild fs-append-only');
    expect(result.read).toMatchObject({ code: 'ERR_ADDON_UNAVAILABLE' });
    expect(result.promise).toBe('ERR_ADDON_UNAVAILABLE');
    // Without the addon nothing about the process can be probed, and the answer says so.
    expect(result.info).toMatchObject({
      supported: false,
      method: 'ioctl',
      hasCapability: false,
      userNamespace: false,
      inContainer: false,
      containerRuntime: null,
      filesystem: null,
    });
    const notes = (result.info as { notes: string }).notes;
    expect(notes).toContain('ERR_ADDON_UNAVAILABLE: the native addon could not be loaded (No native build was found');
    expect(notes).toContain('could not be probed');
    expect(notes).toContain('npm rebuild fs-append-only');
  });
  it('the log still works, warning once that it takes no cross-process lock', () => {
    const copy = packageWithoutAddon();
    const log = join(audit.dir, 'fresh.log');
    const result = runNodeJson<{ warnings: string[]; status: string; records: number; protectWarning: boolean }>(
      `const api = require(${JSON.stringify(join(copy, 'dist', 'index.js'))});
       const warnings = [];
       process.on('warning', (w) => warnings.push(w.code));
       (async () => {
         for (let round = 0; round < 2; round += 1) {
           const log = await api.AppendOnlyLog.open(process.argv[1], { protect: true });
           await log.append({ round });
           await log.close();
         }
         const report = await api.verifyLog(process.argv[1]);
         setImmediate(() => console.log(JSON.stringify({ warnings, status: report.status, records: report.records })));
       })();`,
      { args: [log] },
    );
    expect(result).toMatchObject({ status: 'intact', records: 2 });
    expect(result.warnings.filter((code) => code === 'FS_APPEND_ONLY_NO_LOCK')).toHaveLength(1);
    expect(result.warnings).toContain('FS_APPEND_ONLY_UNPROTECTED');
  });
  it('verifyLog reports exactly what the native fast path reports', async () => {
    const copy = packageWithoutAddon();
    const logs: { path: string; options: Record<string, unknown> }[] = [];
    const make = async (name: string, damage: (text: string) => string, options: Record<string, unknown> = {}): Promise<void> => {
      const path = join(audit.dir, name);
      const log = await AppendOnlyLog.open(path, { durability: 'none' });
      for (let i = 0; i < 50; i += 1) await log.append({ i, actor: `user${i}` });
      await log.close();
      writeFileSync(path, damage(readFileSync(path, 'utf8')));
      logs.push({ path, options });
    };
    const lines = (text: string): string[] => text.split(/(?<=\n)/);
    await make('intact.log', (text) => text);
    await make('edited.log', (text) => text.replace('user7"', 'userX"'));
    await make('deleted.log', (text) => lines(text).filter((_, i) => i !== 20).join(''));
    await make('junk.log', (text) => lines(text).flatMap((line, i) => (i === 30 ? ['junk\n', line] : [line])).join(''));
    await make('torn.log', (text) => `${text}{"seq":51,"ts`);
    await make('anchored.log', (text) => text, { anchor: { seq: 10, hash: 'f'.repeat(64) } });
    const { head } = await verifyLog(logs[0]!.path);
    await make('since.log', (text) => text, { since: { seq: 25, hash: 'a'.repeat(64) } });
    expect(head!.seq).toBe(50);

    const native = await Promise.all(logs.map(({ path, options }) => verifyLog(path, options)));
    const script = `const { verifyLog } = require(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      const logs = JSON.parse(process.argv[1]);
      process.on('warning', () => {});
      Promise.all(logs.map(({ path, options }) => verifyLog(path, options))).then((reports) => console.log(JSON.stringify(reports)));`;
    const withoutAddon = runNodeJson<unknown[]>(script, { args: [JSON.stringify(logs)] });
    expect(withoutAddon).toEqual(JSON.parse(JSON.stringify(native)));
    expect(native.map((report) => report.status)).toEqual(['intact', 'tampered', 'tampered', 'tampered', 'intact', 'tampered', 'tampered']);
  });
});

describe('ES modules', () => {
  it('named imports work, and errors are instances of the imported AppendOnlyError', () => {
    const result = runNode(
      `import { protectAppendOnlySync, unprotectAppendOnlySync, isAppendOnlySync, AppendOnlyError, platformSupportInfo } from 'fs-append-only';
       import fsao from 'fs-append-only';
       const file = process.argv[1];
       const set = protectAppendOnlySync(file);
       const read = isAppendOnlySync(file);
       unprotectAppendOnlySync(file);
       let instance = false;
       try { protectAppendOnlySync(file + '.missing'); } catch (e) { instance = e instanceof AppendOnlyError && e instanceof fsao.AppendOnlyError; }
       console.log(JSON.stringify({ set, read, instance, method: platformSupportInfo().method }));`,
      { args: [audit.file], nodeOptions: ['--input-type=module'] },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ set: true, read: true, instance: true, method: 'ioctl' });
  });
});
