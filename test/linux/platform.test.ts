// platformSupportInfo() on this machine: root with CAP_LINUX_IMMUTABLE, ext4 /tmp, tmpfs and ramfs mounts.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { platformSupportInfo } from '../../lib/index';
import { DIST, type Mount, makeTempDir, mount, removeTree, runNodeJson } from './helpers';

describe('platformSupportInfo', () => {
  let dir: string;
  const mounts: Mount[] = [];
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => {
    removeTree(dir);
    for (const mounted of mounts.splice(0)) mounted.unmount();
  });

  it('reports the capability this process holds, without a path', () => {
    const info = platformSupportInfo();
    expect(info).toMatchObject({
      platform: 'linux',
      method: 'ioctl',
      supported: true,
      hasCapability: true,
      userNamespace: false,
      filesystem: null,
    });
    expect(typeof info.inContainer).toBe('boolean');
    expect(info.notes).toContain('CAP_LINUX_IMMUTABLE');
  });

  it('probes the container natively, from the signals this process sees', () => {
    const probe = (env: Record<string, string>): Record<string, unknown> =>
      runNodeJson(`const { platformSupportInfo } = require(${JSON.stringify(DIST)}); console.log(JSON.stringify(platformSupportInfo()));`, { env });
    // KUBERNETES_SERVICE_HOST is read from the process environment by the addon at each call.
    expect(probe({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toMatchObject({ inContainer: true, containerRuntime: 'kubernetes' });
    const here = platformSupportInfo();
    if (existsSync('/.dockerenv')) expect(here).toMatchObject({ inContainer: true });
    expect(probe({ KUBERNETES_SERVICE_HOST: '' })).toMatchObject({ inContainer: here.inContainer, containerRuntime: here.containerRuntime });
  });

  it('tries the flag for real in a directory on ext4 and leaves nothing behind', () => {
    writeFileSync(join(dir, 'existing.log'), 'x');
    const info = platformSupportInfo({ path: dir });
    expect(info).toMatchObject({ supported: true, filesystem: 'ext4' });
    expect(info.notes).toContain('set, read back and cleared');
    expect(readdirSync(dir)).toEqual(['existing.log']);
  });

  it('accepts the path of a file and probes its directory', () => {
    const file = join(dir, 'audit.log');
    writeFileSync(file, 'x');
    expect(platformSupportInfo({ path: file })).toMatchObject({ supported: true, filesystem: 'ext4' });
    expect(readdirSync(dir)).toEqual(['audit.log']);
  });

  it('answers for a tmpfs directory', () => {
    const tmpfs = mount('tmpfs');
    mounts.push(tmpfs);
    expect(platformSupportInfo({ path: tmpfs.dir })).toMatchObject({ supported: true, filesystem: 'tmpfs' });
    expect(readdirSync(tmpfs.dir)).toEqual([]);
  });

  it('answers no for a ramfs directory, naming it, and removes its probe file', () => {
    const ramfs = mount('ramfs');
    mounts.push(ramfs);
    const info = platformSupportInfo({ path: ramfs.dir });
    expect(info).toMatchObject({ supported: false, filesystem: 'ramfs', hasCapability: true });
    expect(info.notes).toContain('ramfs');
    expect(info.notes).toContain('ENOTSUP');
    expect(readdirSync(ramfs.dir)).toEqual([]);
  });

  it('answers for the directory of a log file that does not exist yet', () => {
    const info = platformSupportInfo({ path: join(dir, 'audit.log') });
    expect(info).toMatchObject({ supported: true, filesystem: 'ext4' });
    expect(info.notes).toContain(`Verified in ${dir}:`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('answers no for a log file yet to be created on ramfs, naming the filesystem', () => {
    const ramfs = mount('ramfs');
    mounts.push(ramfs);
    const info = platformSupportInfo({ path: join(ramfs.dir, 'audit.log') });
    expect(info).toMatchObject({ supported: false, filesystem: 'ramfs', hasCapability: true });
    expect(info.notes).toContain('The ramfs filesystem keeps no append-only or immutable flag');
    expect(readdirSync(ramfs.dir)).toEqual([]);
  });

  it('answers no for a directory that does not exist, saying why', () => {
    const info = platformSupportInfo({ path: join(dir, 'missing', 'audit.log') });
    expect(info).toMatchObject({ supported: false, filesystem: null });
    expect(info.notes).toContain('ENOENT');
    expect(info.notes).toContain(join(dir, 'missing'));
  });

  it('takes a path ending in a separator as a directory, even when it does not exist', () => {
    const info = platformSupportInfo({ path: `${join(dir, 'missing')}/` });
    expect(info).toMatchObject({ supported: false, filesystem: null });
    expect(info.notes).toContain('ENOENT');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => platformSupportInfo(null as never)).toThrow(TypeError);
    expect(() => platformSupportInfo(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => platformSupportInfo('/tmp' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => platformSupportInfo({ path: 3 as never })).toThrow(
      'The "options.path" property must be of type string or an instance of Buffer or URL. Received type number (3)',
    );
  });

  it('names a misspelt option instead of ignoring it', () => {
    let thrown: unknown;
    try {
      platformSupportInfo({ pth: '/tmp' } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((thrown as Error).message).toBe('The "options.pth" property is not an option (known options are path).');
  });
});
