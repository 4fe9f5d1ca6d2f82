// macOS and FreeBSD: UF_APPEND / UF_IMMUTABLE (or the root-only SF_* flags) through fchflags.
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_handle.h"
#include "flags.h"

namespace fsao {
namespace {

uint32_t ToBsdBits(uint32_t mask, bool system_flags) {
  uint32_t bits = 0;
  if (mask & kAppendOnly) bits |= system_flags ? SF_APPEND : UF_APPEND;
  if (mask & kImmutable) bits |= system_flags ? SF_IMMUTABLE : UF_IMMUTABLE;
  return bits;
}

OsResult Stat(int fd, uint32_t* st_flags) {
  struct stat st;
  if (fstat(fd, &st) != 0) return {errno, "fstat"};
  *st_flags = st.st_flags;
  return {};
}

// On an fd already known to be a regular file or directory.
OsResult Change(int fd, uint32_t mask, bool on, bool system_flags) {
  uint32_t current = 0;
  OsResult result = Stat(fd, &current);
  if (result.error != 0) return result;

  // fchflags replaces the whole word: OR the flag into what is there so nothing else is lost (chflags(2)).
  const uint32_t bits = ToBsdBits(mask, system_flags);
  const uint32_t wanted = on ? (current | bits) : (current & ~bits);
  if (wanted == current) return {};
  if (fchflags(fd, wanted) != 0) {
    int error = errno;
    return {error == EINVAL ? ENOTSUP : error, "fchflags"};
  }
  result = Stat(fd, &current);
  if (result.error != 0) return result;
  if ((current & bits) != (on ? bits : 0)) {
    return {ENOTSUP, "fchflags", "the filesystem accepted the flag change but did not keep it"};
  }
  return {};
}

}  // namespace

OsResult ReadFlags(const std::string& path, FileFlags* out, std::string* filesystem) {
  FileHandle file;
  OsResult result = file.OpenForAttributes(path);
  if (result.error != 0) return result;
  if (filesystem != nullptr) {
    result = FilesystemNameOf(file.fd(), filesystem);
    if (result.error != 0) return result;
  }
  uint32_t st_flags = 0;
  result = Stat(file.fd(), &st_flags);
  if (result.error != 0) return result;
  // Either kind of flag makes the file append-only or immutable, whoever set it.
  out->raw = st_flags;
  out->append_only = (st_flags & (UF_APPEND | SF_APPEND)) != 0;
  out->immutable = (st_flags & (UF_IMMUTABLE | SF_IMMUTABLE)) != 0;
  out->supported = true;
  return {};
}

OsResult ChangeFlags(const std::string& path, uint32_t mask, bool on, bool system_flags) {
  FileHandle file;
  OsResult result = file.OpenForAttributes(path);
  if (result.error != 0) return result;
  return Change(file.fd(), mask, on, system_flags);
}

OsResult ChangeFlagsFd(int fd, uint32_t mask, bool on, bool system_flags) {
  OsResult kind = RequireFileOrDirectory(fd);
  if (kind.error != 0) return kind;
  return Change(fd, mask, on, system_flags);
}

}  // namespace fsao
