// An fd opened only to read or change attributes, closed on every path out; and the one check of what
// kind of file may receive the flag calls.
#ifndef FS_APPEND_ONLY_FILE_HANDLE_H
#define FS_APPEND_ONLY_FILE_HANDLE_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "flags.h"

namespace fsao {

// Only regular files and directories are accepted, so a device never receives the ioctl (the same
// number may mean something else to its driver).
inline OsResult RequireFileOrDirectory(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return {errno, "fstat"};
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return {};
  const char* kind = "not a regular file or directory";
  if (S_ISFIFO(st.st_mode)) kind = "not a regular file or directory (a FIFO)";
  if (S_ISSOCK(st.st_mode)) kind = "not a regular file or directory (a socket)";
  if (S_ISCHR(st.st_mode)) kind = "not a regular file or directory (a character device)";
  if (S_ISBLK(st.st_mode)) kind = "not a regular file or directory (a block device)";
  return {ENOTSUP, "open", kind};
}

class FileHandle {
 public:
  FileHandle() = default;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle() {
    if (fd_ >= 0) close(fd_);
  }

  // O_NOFOLLOW: a symlink is refused with ELOOP, never followed. O_NONBLOCK: a FIFO never blocks the open.
  OsResult OpenForAttributes(const std::string& path) {
    fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) {
      int error = errno;
      // A Unix socket cannot be opened at all: Linux says ENXIO, macOS EOPNOTSUPP.
      if (error == ENXIO || error == EOPNOTSUPP) {
        return {ENOTSUP, "open", "not a regular file or directory"};
      }
      return {error, "open"};
    }
    return RequireFileOrDirectory(fd_);
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace fsao

#endif
