// Errors shaped like Node's own fs errors: "CODE: description, syscall 'path'" with errno, code,
// syscall and path properties; calls on an fd name no path, as Node's do.
#ifndef FS_APPEND_ONLY_ERRORS_H
#define FS_APPEND_ONLY_ERRORS_H

#include <napi.h>

#include <string>

#include "flags.h"

namespace fsao {

Napi::Error MakeSystemError(Napi::Env env, const OsResult& result, const std::string& path);
Napi::Error MakeSystemError(Napi::Env env, const OsResult& result);

}  // namespace fsao

#endif
