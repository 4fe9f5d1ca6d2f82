// Builds Node-style system errors from a platform OsResult, with libuv naming the error as Node does.
#include "errors.h"

#include <uv.h>

namespace fsao {
namespace {

Napi::Error Build(Napi::Env env, const OsResult& result, const std::string* path) {
  // Node's fs errors carry libuv's error number (negative) and its name and description
  // (uv_err_name, uv_strerror), so the same failure reads the same from this addon as from node:fs.
  const int error = uv_translate_sys_error(result.error);
  char name[64];
  char description[128];
  uv_err_name_r(error, name, sizeof name);
  uv_strerror_r(error, description, sizeof description);
  // An error libuv does not know comes back as "Unknown system error -N": Node calls its code UNKNOWN.
  const std::string code = name[0] == 'U' && name[1] == 'n' ? "UNKNOWN" : name;
  const std::string syscall = result.syscall != nullptr ? result.syscall : "unknown";

  std::string message = code + ": " + (result.detail != nullptr ? result.detail : description) + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";
  Napi::Error made = Napi::Error::New(env, message);
  Napi::Object object = made.Value();
  object.Set("errno", Napi::Number::New(env, error));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) object.Set("path", Napi::String::New(env, *path));
  return made;
}

}  // namespace

Napi::Error MakeSystemError(Napi::Env env, const OsResult& result, const std::string& path) {
  return Build(env, result, &path);
}

Napi::Error MakeSystemError(Napi::Env env, const OsResult& result) { return Build(env, result, nullptr); }

}  // namespace fsao
