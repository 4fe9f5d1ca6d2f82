// Calls the platform layer in a loop, error paths included, for valgrind memcheck (no Node, no V8 noise).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../../src/flags.h"

static void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "unexpected: %s\n", what);
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string dir = argv[1];
  const std::string file = dir + "/audit.log";
  const std::string link = dir + "/link";
  const std::string fifo = dir + "/fifo";
  close(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  symlink(file.c_str(), link.c_str());
  mkfifo(fifo.c_str(), 0600);

  for (int round = 0; round < 500; ++round) {
    fsao::FileFlags flags;
    for (uint32_t mask : {fsao::kAppendOnly, fsao::kImmutable}) {
      Expect(fsao::ChangeFlags(file, mask, true, false, &flags).error == 0, "set");
      Expect(fsao::ReadFlags(file, &flags).error == 0 && (flags.append_only || flags.immutable), "read");
      Expect(fsao::ChangeFlags(file, mask, false, false, &flags).error == 0, "clear");
    }
    Expect(fsao::ReadFlags(link, &flags).error == ELOOP, "symlink");
    Expect(fsao::ReadFlags(fifo, &flags).error == ENOTSUP, "fifo");
    Expect(fsao::ChangeFlags("/dev/null", fsao::kAppendOnly, true, false, &flags).error == ENOTSUP, "device");
    Expect(fsao::ReadFlags(dir + "/missing", &flags).error == ENOENT, "missing");
    std::string name;
    Expect(fsao::FilesystemName(dir, &name).error == 0 && !name.empty(), "filesystem");
    Expect(fsao::FilesystemName(dir + "/missing", &name).error == ENOENT, "filesystem of missing");
    int fd = open(file.c_str(), O_RDONLY);
    bool acquired = false;
    Expect(fsao::LockFile(fd, fsao::LockMode::kTryExclusive, &acquired).error == 0 && acquired, "lock");
    Expect(fsao::LockFile(fd, fsao::LockMode::kUnlock, &acquired).error == 0, "unlock");
    close(fd);
    Expect(fsao::LockFile(fd, fsao::LockMode::kExclusive, &acquired).error == EBADF, "lock a closed fd");
  }
  unlink(fifo.c_str());
  unlink(link.c_str());
  unlink(file.c_str());
  std::puts("platform layer: 500 rounds");
  return 0;
}
