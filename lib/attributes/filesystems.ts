// Which filesystems keep the append-only and immutable flags (ioctl_iflags(2), chflags(2), tested where possible).

const KEEPS_FLAGS = new Set([
  // Linux
  'ext4', 'xfs', 'btrfs', 'f2fs', 'zfs', 'bcachefs', 'tmpfs', 'jfs', 'reiserfs', 'nilfs', 'gfs2',
  // overlayfs passes the flags to the upper inode, which is ext4 or xfs in practice.
  'overlayfs',
  // macOS and FreeBSD
  'apfs', 'hfs', 'ufs',
]);

const LACKS_FLAGS = new Set([
  'ramfs', 'nfs', 'cifs', 'smb2', 'smbfs', 'fuse', '9p', 'vfat', 'msdos', 'exfat', 'ntfs', 'squashfs',
  'iso9660', 'cd9660', 'erofs', 'udf', 'vboxsf', 'ceph', 'proc', 'sysfs', 'devfs',
]);

/** true or false when the filesystem is known to keep (or lack) the flags; undefined when unknown. */
export function filesystemKeepsFlags(name: string): boolean | undefined {
  if (KEEPS_FLAGS.has(name)) return true;
  if (LACKS_FLAGS.has(name)) return false;
  return undefined;
}

/** The filesystems named in advice, where a file should live to be protected. */
export const RECOMMENDED_FILESYSTEMS = 'ext4, xfs, btrfs, f2fs or tmpfs';
