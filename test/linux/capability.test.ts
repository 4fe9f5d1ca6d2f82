// Without CAP_LINUX_IMMUTABLE (a child under setpriv): EPERM naming the capability and the fix.
import { dirname, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { protectAppendOnlySync } from '../../lib/index';
import { DIST, lsattr, runNodeJson, useAuditFile } from './helpers';

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
  const audit = useAuditFile();

  it('protectAppendOnlySync throws AppendOnlyError EPERM naming the capability and how to grant it', () => {
    const outcome = withoutCapability('api.protectAppendOnlySync(file)', audit.file);
    expect(outcome).toMatchObject({
      code: 'EPERM',
      name: 'AppendOnlyError',
      syscall: 'ioctl',
      errno: -1,
      path: audit.file,
      isAppendOnlyError: true,
    });
    expect(outcome.message).toMatch(/^EPERM: operation not permitted, ioctl '.*audit\.log'\. /);
    expect(outcome.message).toContain('CAP_LINUX_IMMUTABLE');
    expect(outcome.fix).toMatch(/--cap-add LINUX_IMMUTABLE|setcap cap_linux_immutable|capabilities/);
    expect(outcome.message).toContain(outcome.fix);
    expect(lsattr(audit.file)).not.toContain('a');
  });

  it('protectFileDescriptorSync throws the same explained EPERM, naming the path', () => {
    const attributes = JSON.stringify(join(dirname(DIST), 'attributes', 'index.js'));
    const outcome = withoutCapability(`require(${attributes}).protectFileDescriptorSync(require('fs').openSync(file, 'a'), file)`, audit.file);
    expect(outcome).toMatchObject({ code: 'EPERM', name: 'AppendOnlyError', syscall: 'ioctl', errno: -1, path: audit.file });
    expect(outcome.message).toMatch(/^EPERM: operation not permitted, ioctl '.*audit\.log'\. /);
    expect(outcome.message).toContain('CAP_LINUX_IMMUTABLE');
    expect(lsattr(audit.file)).not.toContain('a');
  });

  it('the promise form rejects the same way', () => {
    expect(withoutCapability('api.protectAppendOnly(file)', audit.file)).toMatchObject({ code: 'EPERM', isAppendOnlyError: true });
    expect(withoutCapability('api.setImmutable(file)', audit.file)).toMatchObject({ code: 'EPERM' });
  });

  it('reading needs no capability', () => {
    protectAppendOnlySync(audit.file);
    expect(withoutCapability('api.isAppendOnlySync(file)', audit.file)).toEqual({ value: true });
    expect(withoutCapability('api.getFileAttributes(file)', audit.file).value).toMatchObject({ appendOnly: true });
  });

  it('protecting an already protected file succeeds: nothing has to change', () => {
    protectAppendOnlySync(audit.file);
    expect(withoutCapability('api.protectAppendOnlySync(file)', audit.file)).toEqual({ value: true });
    expect(withoutCapability('api.unprotectAppendOnlySync(file)', audit.file)).toMatchObject({ code: 'EPERM' });
    expect(lsattr(audit.file)).toContain('a');
  });

  it('platformSupportInfo reports hasCapability false, unsupported, and notes naming the fix', () => {
    const info = withoutCapability('api.platformSupportInfo()', audit.file).value as Record<string, unknown>;
    expect(info).toMatchObject({ platform: 'linux', method: 'ioctl', hasCapability: false, supported: false });
    expect(info.notes).toContain('CAP_LINUX_IMMUTABLE');
    expect(info.notes).toMatch(/--cap-add LINUX_IMMUTABLE|setcap cap_linux_immutable|capabilities/);
  });

  it('platformSupportInfo with a path confirms it by trying, and leaves nothing behind', () => {
    const info = withoutCapability('api.platformSupportInfo({ path: require("path").dirname(file) })', audit.file)
      .value as Record<string, unknown>;
    expect(info).toMatchObject({ supported: false, hasCapability: false, filesystem: 'ext4' });
    expect(info.notes).toContain('confirmed it (EPERM)');
  });
});
