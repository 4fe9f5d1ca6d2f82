// The platform layer: file attribute flags, probes and the log's lock, with no N-API in it.
// Every function returns an OsResult: error 0 on success, or the error and the syscall that failed.
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
  // 0, or what libuv's uv_translate_sys_error() takes: a positive errno (a Win32 error code on
  // Windows), or a negative libuv error (UV_ENOTSUP) where no system call gave one.
  int error = 0;
  const char* syscall = nullptr;  // the call that failed, as Node names it in fs errors
  const char* detail = nullptr;   // replaces the errno's description when the errno alone would mislead
};

struct FileFlags {
  uint32_t raw = 0;         // the platform's own flag word (FS_IOC_GETFLAGS, or st_flags)
  bool append_only = false;
  bool immutable = false;
  bool supported = true;    // false when the filesystem keeps no such flags at all
};

// Reads the flags of `path` without following a final symlink, and, when `filesystem` is not null, the
// name of the filesystem holding it, through the same open file. A filesystem without flags is not an
// error: `supported` comes back false.
OsResult ReadFlags(const std::string& path, FileFlags* out, std::string* filesystem);

// Sets (on == true) or clears the flags in `mask`, keeping every other flag of the file, then reads
// them back and fails if the change did not stick. `system_flags` picks SF_* over UF_* on BSD;
// Linux has one kind of flag and ignores it.
OsResult ChangeFlags(const std::string& path, uint32_t mask, bool on, bool system_flags);

// The same on a file the caller holds open (its mode does not matter), so the flag lands on that very
// file whatever has happened to its path since.
OsResult ChangeFlagsFd(int fd, uint32_t mask, bool on, bool system_flags);

// Names the filesystem that holds `path` or the open `fd` ("ext4", "tmpfs", "apfs", ...), or "unknown (0x...)".
OsResult FilesystemName(const std::string& path, std::string* name);
OsResult FilesystemNameOf(int fd, std::string* name);

// What this process may do here. Linux reads CapEff, uid_map and the container signals from /proc and
// the filesystem; macOS and FreeBSD answer has_capability true (owners may set UF_APPEND).
struct ProcessFacts {
  bool has_capability = false;
  bool user_namespace = false;
  bool in_container = false;
  const char* container_runtime = nullptr;  // a static name, or nullptr
};
void ProbeProcess(ProcessFacts* facts);

// The log's cross-process lock on an open file: flock on Linux, macOS and FreeBSD (per open file
// description), LockFileEx on Windows (per handle); either way two opens in one process exclude each
// other too. It never keeps anyone from reading or appending. kTryExclusive never blocks: `acquired`
// comes back false when another holds it. Unlocking what is not locked succeeds, as flock does.
enum class LockMode { kExclusive, kTryExclusive, kUnlock };
OsResult LockFile(int fd, LockMode mode, bool* acquired);

// How this build locks: "flock", "LockFileEx" or "none" (LockFile then fails with ENOTSUP).
const char* LockMethod();

}  // namespace fsao

#endif
