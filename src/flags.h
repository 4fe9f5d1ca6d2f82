// The platform layer: file attribute flags and probes, with no N-API in it.
// Every function returns an OsResult: error 0 on success, or the errno and the syscall that failed.
#ifndef FS_APPEND_ONLY_FLAGS_H
#define FS_APPEND_ONLY_FLAGS_H

#include <cstdint>
#include <string>

namespace fsao {

// Portable names for the two flags; each platform file maps them to its own bits.
enum FlagMask : uint32_t {
  kAppendOnly = 1u << 0,
  kImmutable = 1u << 1,
};

struct OsResult {
  int error = 0;                  // 0, or a positive errno
  const char* syscall = nullptr;  // the call that failed, as Node names it in fs errors
  const char* detail = nullptr;   // replaces strerror() in the message when the errno alone would mislead
};

struct FileFlags {
  uint32_t raw = 0;         // the platform's own flag word (FS_IOC_GETFLAGS, or st_flags)
  bool append_only = false;
  bool immutable = false;
  bool supported = true;    // false when the filesystem keeps no such flags at all
};

// Reads the flags of `path` without following a final symlink.
// A filesystem without flags is not an error: `supported` comes back false.
OsResult ReadFlags(const std::string& path, FileFlags* out);

// Sets (on == true) or clears the flags in `mask`, keeping every other flag of the file, then reads
// them back and fails if the change did not stick. `system_flags` picks SF_* over UF_* on BSD;
// Linux has one kind of flag and ignores it.
OsResult ChangeFlags(const std::string& path, uint32_t mask, bool on, bool system_flags, FileFlags* after);

// Names the filesystem that holds `path` ("ext4", "tmpfs", "ramfs", ...), or "unknown (0x...)".
OsResult FilesystemName(const std::string& path, std::string* name);

// The log's cross-process lock on an open file: flock on Linux, macOS and FreeBSD (per open file
// description), LockFileEx on Windows (per handle); either way two opens in one process exclude each
// other too. It never keeps anyone from reading or appending. kTryExclusive never blocks: `acquired`
// comes back false when another holds it. Unlocking what is not locked succeeds, as flock does.
enum class LockMode { kExclusive, kTryExclusive, kUnlock };
OsResult LockFile(int fd, LockMode mode, bool* acquired);

// How this build locks: "flock", "LockFileEx" or "none" (LockFile then fails with ENOTSUP).
const char* LockMethod();

// How this build changes flags: "ioctl" (Linux), "chflags" (macOS, FreeBSD) or "none".
const char* FlagMethod();

}  // namespace fsao

#endif
