// Without CAP_LINUX_IMMUTABLE (a child under setpriv): EPERM naming the capability and the fix.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { protectAppendOnlySync } from '../../lib/index';
import { DIST, lsattr, makeTempDir, removeTree, runNodeJson } from './helpers';

interface Outcome {
  code?: string;
  name?: string;
  message?: string;
  fix?: string;
  syscall?: string;
  errno?: number;
  path?: string;
  value?: unknown;
}

// Runs one call of the public API in a child without the capability and reports what came of it.
function withoutCapability(call: string, file: string): Outcome {
  return runNodeJson<Outcome>(
    `const api = require(${JSON.stringify(DIST)});
     const file = process.argv[1];
     Promise.resolve().then(() => ${call}).then(
       (value) => console.log(JSON.stringify({ value })),
       (e) => console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message, fix: e.fix,
         syscall: e.syscall, errno: e.errno, path: e.path, isAppendOnlyError: e instanceof api.AppendOnlyError })));`,
    { args: [file], dropCapability: true },
  );
}

describe('without CAP_LINUX_IMMUTABLE', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir();
    file = join(dir, 'audit.log');
    writeFileSync(file, 'x\n');
  });
  afterEach(() => removeTree(dir));

  it('protectAppendOnlySync throws AppendOnlyError EPERM naming the capability and how to grant it', () => {
    const outcome = withoutCapability('api.protectAppendOnlySync(file)', file);
    expect(outcome).toMatchObject({
      code: 'EPERM',
      name: 'AppendOnlyError',
      syscall: 'ioctl',
      errno: -1,
      path: file,
      isAppendOnlyError: true,
    });
    expect(outcome.message).toMatch(/^EPERM: operation not permitted, ioctl '.*audit\.log'\. /);
    expect(outcome.message).toContain('CAP_LINUX_IMMUTABLE');
    expect(outcome.fix).toMatch(/--cap-add LINUX_IMMUTABLE|setcap cap_linux_immutable|capabilities/);
    expect(outcome.message).toContain(outcome.fix);
    expect(lsattr(file)).not.toContain('a');
  });

  it('the promise form rejects the same way', () => {
    expect(withoutCapability('api.protectAppendOnly(file)', file)).toMatchObject({ code: 'EPERM', isAppendOnlyError: true });
    expect(withoutCapability('api.setImmutable(file)', file)).toMatchObject({ code: 'EPERM' });
  });

  it('reading needs no capability', () => {
    protectAppendOnlySync(file);
    expect(withoutCapability('api.isAppendOnlySync(file)', file)).toEqual({ value: true });
    expect(withoutCapability('api.getFileAttributes(file)', file).value).toMatchObject({ appendOnly: true });
  });

  it('protecting an already protected file succeeds: nothing has to change', () => {
    protectAppendOnlySync(file);
    expect(withoutCapability('api.protectAppendOnlySync(file)', file)).toEqual({ value: true });
    expect(withoutCapability('api.unprotectAppendOnlySync(file)', file)).toMatchObject({ code: 'EPERM' });
    expect(lsattr(file)).toContain('a');
  });

  it('platformSupportInfo reports hasCapability false, unsupported, and notes naming the fix', () => {
    const info = withoutCapability('api.platformSupportInfo()', file).value as Record<string, unknown>;
    expect(info).toMatchObject({ platform: 'linux', method: 'ioctl', hasCapability: false, supported: false });
    expect(info.notes).toContain('CAP_LINUX_IMMUTABLE');
    expect(info.notes).toMatch(/--cap-add LINUX_IMMUTABLE|setcap cap_linux_immutable|capabilities/);
  });

  it('platformSupportInfo with a path confirms it by trying, and leaves nothing behind', () => {
    const info = withoutCapability('api.platformSupportInfo({ path: require("path").dirname(file) })', file)
      .value as Record<string, unknown>;
    expect(info).toMatchObject({ supported: false, hasCapability: false, filesystem: 'ext4' });
    expect(info.notes).toContain('confirmed it (EPERM)');
  });
});
