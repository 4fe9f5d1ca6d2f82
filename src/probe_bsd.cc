// macOS and FreeBSD: the filesystem type of a path, as statfs(2) names it ("apfs", "ufs", "zfs").
#include <errno.h>
#include <sys/mount.h>
#include <sys/param.h>

#include "flags.h"

namespace fsao {

OsResult FilesystemName(const std::string& path, std::string* name) {
  struct statfs info;
  if (statfs(path.c_str(), &info) != 0) return {errno, "statfs"};
  *name = info.f_fstypename;
  return {};
}

}  // namespace fsao
