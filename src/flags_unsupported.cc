// Platforms with no append-only attribute (Windows, ...): every call says so with ENOTSUP.
#include <errno.h>

#include "flags.h"

namespace fsao {

static const OsResult kUnsupported = {ENOTSUP, "open", "this platform has no append-only file attribute"};

OsResult ReadFlags(const std::string&, FileFlags*) { return kUnsupported; }
OsResult ChangeFlags(const std::string&, uint32_t, bool, bool, FileFlags*) { return kUnsupported; }
OsResult FilesystemName(const std::string&, std::string*) { return kUnsupported; }
const char* FlagMethod() { return "none"; }

}  // namespace fsao
