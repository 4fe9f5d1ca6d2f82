// Platforms where the addon knows no cross-process lock: LockFile says so with ENOTSUP.
#include <uv.h>

#include "flags.h"

namespace fsao {

OsResult LockFile(int, LockMode, bool*) { return {UV_ENOTSUP, "flock", "this platform has no file lock the addon knows"}; }
const char* LockMethod() { return "none"; }

}  // namespace fsao
