// Builds Node-style system errors from a platform OsResult.
#include "errors.h"

#include <errno.h>

#include <cstring>

namespace fsao {
namespace {

struct ErrnoName {
  int value;
  const char* code;
  const char* description;  // libuv's wording, so messages read like Node's own
};

// ENOTSUP comes before EOPNOTSUPP: on Linux they are one number and Node calls it ENOTSUP.
const ErrnoName kErrnos[] = {
    {EPERM, "EPERM", "operation not permitted"},
    {ENOENT, "ENOENT", "no such file or directory"},
    {EIO, "EIO", "i/o error"},
    {ENXIO, "ENXIO", "no such device or address"},
    {EBADF, "EBADF", "bad file descriptor"},
    {ENOMEM, "ENOMEM", "not enough memory"},
    {EACCES, "EACCES", "permission denied"},
    {EFAULT, "EFAULT", "bad address in system call argument"},
    {EBUSY, "EBUSY", "resource busy or locked"},
    {EEXIST, "EEXIST", "file already exists"},
    {EXDEV, "EXDEV", "cross-device link not permitted"},
    {ENODEV, "ENODEV", "no such device"},
    {ENOTDIR, "ENOTDIR", "not a directory"},
    {EISDIR, "EISDIR", "illegal operation on a directory"},
    {EINVAL, "EINVAL", "invalid argument"},
    {ENFILE, "ENFILE", "file table overflow"},
    {EMFILE, "EMFILE", "too many open files"},
    {ENOTTY, "ENOTTY", "inappropriate ioctl for device"},
    {ETXTBSY, "ETXTBSY", "text file is busy"},
    {EFBIG, "EFBIG", "file too large"},
    {ENOSPC, "ENOSPC", "no space left on device"},
    {EROFS, "EROFS", "read-only file system"},
    {ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
    {ENOSYS, "ENOSYS", "function not implemented"},
    {ELOOP, "ELOOP", "too many symbolic links encountered"},
    {ENOTSUP, "ENOTSUP", "operation not supported"},
    {EOPNOTSUPP, "EOPNOTSUPP", "operation not supported"},
    {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    {EINTR, "EINTR", "interrupted system call"},
};

const ErrnoName* Lookup(int error) {
  for (const ErrnoName& known : kErrnos) {
    if (known.value == error) return &known;
  }
  return nullptr;
}

}  // namespace

Napi::Error MakeSystemError(Napi::Env env, const OsResult& result, const std::string& path) {
  const ErrnoName* known = Lookup(result.error);
  const std::string code = known != nullptr ? known->code : "UNKNOWN";
  const std::string description = result.detail != nullptr ? result.detail
                                  : known != nullptr       ? known->description
                                                           : std::strerror(result.error);
  const std::string syscall = result.syscall != nullptr ? result.syscall : "unknown";

  Napi::Error error = Napi::Error::New(env, code + ": " + description + ", " + syscall + " '" + path + "'");
  Napi::Object object = error.Value();
  object.Set("errno", Napi::Number::New(env, -result.error));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, syscall));
  object.Set("path", Napi::String::New(env, path));
  return error;
}

}  // namespace fsao
