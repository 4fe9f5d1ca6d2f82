// Windows: the log's cross-process lock, LockFileEx on one byte far beyond any data the log will hold.
#include <uv.h>
#include <windows.h>

#include "flags.h"

namespace fsao {
namespace {

// Windows byte-range locks are mandatory: an exclusive lock denies every other handle, even one of
// the same process, reading or writing the locked bytes (LockFileEx, "Remarks", Microsoft Learn). So
// the lock covers one byte no log reaches, at 0x7FFFFFFF00000000 (just under 8 EiB, still a positive
// signed 64-bit offset), and readers and writers never meet it. "Locking a region that goes beyond
// the current end-of-file position is not an error" (same page).
constexpr DWORD kLockOffsetLow = 0;
constexpr DWORD kLockOffsetHigh = 0x7FFFFFFF;
constexpr DWORD kLockBytes = 1;

OVERLAPPED LockedByte() {
  OVERLAPPED where = {};
  where.Offset = kLockOffsetLow;
  where.OffsetHigh = kLockOffsetHigh;
  return where;
}

// What errors.cc hands to uv_translate_sys_error(), which on Windows takes Win32 error codes. A few are
// given as libuv errors where libuv's own mapping would mislead here: ERROR_INVALID_FUNCTION means a
// handle that takes no byte-range locks (a pipe, some network redirectors), not a directory.
int ToSystemError(DWORD error) {
  switch (error) {
    case ERROR_INVALID_FUNCTION:
    case ERROR_NOT_SUPPORTED:
      return UV_ENOTSUP;
    case ERROR_ACCESS_DENIED:
      return UV_EACCES;
    case ERROR_LOCK_VIOLATION:
      return UV_EAGAIN;
    default:
      return static_cast<int>(error);
  }
}

}  // namespace

OsResult LockFile(int fd, LockMode mode, bool* acquired) {
  // node:fs hands out C runtime descriptors from node's own C runtime (libuv, _open_osfhandle). The
  // addon may link a C runtime of its own whose _get_osfhandle knows none of them, so node's is asked.
  HANDLE handle = uv_get_osfhandle(fd);
  if (handle == INVALID_HANDLE_VALUE) return {UV_EBADF, mode == LockMode::kUnlock ? "UnlockFileEx" : "LockFileEx"};

  OVERLAPPED where = LockedByte();
  if (mode == LockMode::kUnlock) {
    // ERROR_NOT_LOCKED: nothing to release, which flock(LOCK_UN) also accepts.
    if (UnlockFileEx(handle, 0, kLockBytes, 0, &where) || GetLastError() == ERROR_NOT_LOCKED) {
      *acquired = false;
      return {};
    }
    return {ToSystemError(GetLastError()), "UnlockFileEx"};
  }

  DWORD flags = LOCKFILE_EXCLUSIVE_LOCK;
  if (mode == LockMode::kTryExclusive) flags |= LOCKFILE_FAIL_IMMEDIATELY;
  BOOL locked = LockFileEx(handle, flags, 0, kLockBytes, 0, &where);
  DWORD error = locked ? ERROR_SUCCESS : GetLastError();
  if (error == ERROR_IO_PENDING) {
    // Only a handle opened for overlapped I/O answers so (libuv opens files for synchronous I/O):
    // the request is queued, and its outcome is known once it completes.
    DWORD unused = 0;
    locked = GetOverlappedResult(handle, &where, &unused, TRUE);
    error = locked ? ERROR_SUCCESS : GetLastError();
  }
  if (error == ERROR_SUCCESS) {
    *acquired = true;
    return {};
  }
  if (mode == LockMode::kTryExclusive && error == ERROR_LOCK_VIOLATION) {
    *acquired = false;
    return {};
  }
  return {ToSystemError(error), "LockFileEx"};
}

const char* LockMethod() { return "LockFileEx"; }

}  // namespace fsao
