// Linux, macOS, FreeBSD: advisory whole-file locks with flock(2).
#include <errno.h>
#include <sys/file.h>

#include "flags.h"

namespace fsao {

OsResult LockFile(int fd, LockMode mode, bool* acquired) {
  int operation = LOCK_UN;
  if (mode == LockMode::kExclusive) operation = LOCK_EX;
  if (mode == LockMode::kTryExclusive) operation = LOCK_EX | LOCK_NB;
  int result;
  do {
    result = flock(fd, operation);
  } while (result != 0 && errno == EINTR);
  if (result == 0) {
    *acquired = mode != LockMode::kUnlock;
    return {};
  }
  if (errno == EWOULDBLOCK && mode == LockMode::kTryExclusive) {
    *acquired = false;
    return {};
  }
  return {errno, "flock"};
}

const char* LockMethod() { return "flock"; }

}  // namespace fsao
