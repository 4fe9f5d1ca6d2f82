// Linux: FS_APPEND_FL and FS_IMMUTABLE_FL through FS_IOC_GETFLAGS / FS_IOC_SETFLAGS on one fd.
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_handle.h"
#include "flags.h"

namespace fsao {
namespace {

// Filesystems without inode flags answer the ioctl with any of these: NFS, CIFS, ramfs,
// FUSE and WSL1 do not agree on one errno.
bool MeansUnsupported(int error) {
  return error == ENOTTY || error == EOPNOTSUPP || error == ENOSYS || error == EINVAL;
}

uint32_t ToLinuxBits(uint32_t mask) {
  uint32_t bits = 0;
  if (mask & kAppendOnly) bits |= FS_APPEND_FL;
  if (mask & kImmutable) bits |= FS_IMMUTABLE_FL;
  return bits;
}

// The kernel ABI takes a 32-bit int, whatever the ioctl number's encoded size says: a long would
// break on big-endian 64-bit machines (ioctl_iflags(2)).
int GetFlags(int fd, int* flags) { return ioctl(fd, FS_IOC_GETFLAGS, flags) == 0 ? 0 : errno; }
int SetFlags(int fd, int flags) { return ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 ? 0 : errno; }

// Read-modify-write on an fd already known to be a regular file or directory, so that every other flag
// (nodump, noatime, extents...) survives, as e2fsprogs' chattr does.
OsResult Change(int fd, uint32_t mask, bool on) {
  int current = 0;
  int error = GetFlags(fd, &current);
  if (error != 0) return {MeansUnsupported(error) ? ENOTSUP : error, "ioctl"};

  const int bits = static_cast<int>(ToLinuxBits(mask));
  const int wanted = on ? (current | bits) : (current & ~bits);
  if (wanted == current) return {};
  error = SetFlags(fd, wanted);
  if (error != 0) return {MeansUnsupported(error) ? ENOTSUP : error, "ioctl"};
  // btrfs and some FUSE filesystems accept SETFLAGS and drop the flag silently.
  error = GetFlags(fd, &current);
  if (error != 0) return {error, "ioctl"};
  if ((current & bits) != (on ? bits : 0)) {
    return {ENOTSUP, "ioctl", "the filesystem accepted the flag change but did not keep it"};
  }
  return {};
}

}  // namespace

OsResult ReadFlags(const std::string& path, FileFlags* out, std::string* filesystem) {
  FileHandle file;
  OsResult opened = file.OpenForAttributes(path);
  if (opened.error != 0) return opened;
  if (filesystem != nullptr) {
    OsResult named = FilesystemNameOf(file.fd(), filesystem);
    if (named.error != 0) return named;
  }

  int flags = 0;
  int error = GetFlags(file.fd(), &flags);
  if (error != 0) {
    if (!MeansUnsupported(error)) return {error, "ioctl"};
    *out = FileFlags{};
    out->supported = false;
    return {};
  }
  out->raw = static_cast<uint32_t>(flags);
  out->append_only = (flags & FS_APPEND_FL) != 0;
  out->immutable = (flags & FS_IMMUTABLE_FL) != 0;
  out->supported = true;
  return {};
}

OsResult ChangeFlags(const std::string& path, uint32_t mask, bool on, bool /*system_flags*/) {
  FileHandle file;
  OsResult opened = file.OpenForAttributes(path);
  if (opened.error != 0) return opened;
  return Change(file.fd(), mask, on);
}

OsResult ChangeFlagsFd(int fd, uint32_t mask, bool on, bool /*system_flags*/) {
  OsResult kind = RequireFileOrDirectory(fd);
  if (kind.error != 0) return kind;
  return Change(fd, mask, on);
}

}  // namespace fsao
