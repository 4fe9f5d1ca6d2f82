// macOS and FreeBSD probes: the filesystem type as statfs(2) names it ("apfs", "ufs", "zfs"), and what
// this process may do (the owner of a file may set UF_APPEND, so there is nothing to probe).
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

OsResult FilesystemNameOf(int fd, std::string* name) {
  struct statfs info;
  if (fstatfs(fd, &info) != 0) return {errno, "fstatfs"};
  *name = info.f_fstypename;
  return {};
}

void ProbeProcess(ProcessFacts* facts) { *facts = ProcessFacts{true, false, false, nullptr}; }

}  // namespace fsao
