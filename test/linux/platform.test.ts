// platformSupportInfo() on this machine: root with CAP_LINUX_IMMUTABLE, ext4 /tmp, tmpfs and ramfs mounts.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { platformSupportInfo } from '../../lib/index';
import { type Mount, makeTempDir, mount, removeTree } from './helpers';

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

  it('answers no for a directory that does not exist, saying why', () => {
    const info = platformSupportInfo({ path: join(dir, 'missing') });
    expect(info).toMatchObject({ supported: false, filesystem: null });
    expect(info.notes).toContain('ENOENT');
  });

  it('rejects bad options with a TypeError', () => {
    expect(() => platformSupportInfo(null as never)).toThrow(TypeError);
    expect(() => platformSupportInfo({ path: 3 as never })).toThrow(/"options.path" argument/);
  });
});
