// An fd opened only to read or change attributes, closed on every path out.
#ifndef FS_APPEND_ONLY_FILE_HANDLE_H
#define FS_APPEND_ONLY_FILE_HANDLE_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "flags.h"

namespace fsao {

class FileHandle {
 public:
  FileHandle() = default;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle() {
    if (fd_ >= 0) close(fd_);
  }

  // O_NOFOLLOW: a symlink is refused with ELOOP, never followed. O_NONBLOCK: a FIFO never blocks the
  // open. Only regular files and directories are accepted, so a device never receives the ioctl
  // (the same number may mean something else to its driver).
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
    struct stat st;
    if (fstat(fd_, &st) != 0) return {errno, "fstat"};
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return {ENOTSUP, "open", KindOf(st.st_mode)};
    }
    return {};
  }

  int fd() const { return fd_; }

 private:
  static const char* KindOf(mode_t mode) {
    if (S_ISFIFO(mode)) return "not a regular file or directory (a FIFO)";
    if (S_ISSOCK(mode)) return "not a regular file or directory (a socket)";
    if (S_ISCHR(mode)) return "not a regular file or directory (a character device)";
    if (S_ISBLK(mode)) return "not a regular file or directory (a block device)";
    return "not a regular file or directory";
  }

  int fd_ = -1;
};

}  // namespace fsao

#endif
