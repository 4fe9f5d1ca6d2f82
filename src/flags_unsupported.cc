// Platforms with no append-only attribute (Windows, ...): every flag call says so with ENOTSUP, and the
// probe finds nothing. lib/binding.ts's policy keeps the facade from calling them at all.
#include <uv.h>

#include "flags.h"

namespace fsao {

// A libuv error, not an errno: Windows' C runtime numbers ENOTSUP differently from what
// uv_translate_sys_error() expects there (a Win32 error code).
static const OsResult kUnsupported = {UV_ENOTSUP, "open", "this platform has no append-only file attribute"};

OsResult ReadFlags(const std::string&, FileFlags*, std::string*) { return kUnsupported; }
OsResult ChangeFlags(const std::string&, uint32_t, bool, bool) { return kUnsupported; }
OsResult ChangeFlagsFd(int, uint32_t, bool, bool) { return kUnsupported; }
OsResult FilesystemName(const std::string&, std::string*) { return kUnsupported; }
OsResult FilesystemNameOf(int, std::string*) { return kUnsupported; }
void ProbeProcess(ProcessFacts* facts) { *facts = ProcessFacts{}; }

}  // namespace fsao
