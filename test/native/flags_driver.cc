// Calls the platform layer and the probe's parsers in a loop, error paths included, for valgrind memcheck
// (no Node, no V8 noise).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../../src/flags.h"
#include "../../src/proc_parse.h"

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
      Expect(fsao::ChangeFlags(file, mask, true, false).error == 0, "set");
      std::string filesystem;
      Expect(fsao::ReadFlags(file, &flags, &filesystem).error == 0 && (flags.append_only || flags.immutable), "read");
      Expect(!filesystem.empty(), "filesystem with the flags");
      Expect(fsao::ChangeFlags(file, mask, false, false).error == 0, "clear");
    }
    const int held = open(file.c_str(), O_WRONLY | O_APPEND);
    Expect(fsao::ChangeFlagsFd(held, fsao::kAppendOnly, true, false).error == 0, "set through an fd");
    Expect(fsao::ChangeFlagsFd(held, fsao::kAppendOnly, false, false).error == 0, "clear through an fd");
    close(held);
    Expect(fsao::ChangeFlagsFd(held, fsao::kAppendOnly, true, false).error == EBADF, "a closed fd");
    Expect(fsao::ReadFlags(link, &flags, nullptr).error == ELOOP, "symlink");
    Expect(fsao::ReadFlags(fifo, &flags, nullptr).error == ENOTSUP, "fifo");
    Expect(fsao::ChangeFlags("/dev/null", fsao::kAppendOnly, true, false).error == ENOTSUP, "device");
    Expect(fsao::ReadFlags(dir + "/missing", &flags, nullptr).error == ENOENT, "missing");
    fsao::ProcessFacts facts;
    fsao::ProbeProcess(&facts);
    Expect(fsao::ParseEffectiveCapabilities("CapEff:\t000001ffffffffff\n").value_or(0) == 0x1ffffffffffull, "CapEff");
    Expect(!fsao::ParseEffectiveCapabilities(std::string(5000, 'f')).has_value(), "no CapEff");
    Expect(fsao::IsInUserNamespace("0 100000 65536\n") && !fsao::IsInUserNamespace(" 0 0 4294967295\n"), "uid_map");
    fsao::ContainerSignals signals;
    signals.cgroup = "12:pids:/kubepods/burstable/pod1/abc\n";
    signals.mountinfo = std::string(" - overlay\n - \n1 2 3 4 / - overlay x\n");
    signals.pid1_environ = std::string("container=lxc\0PATH=/bin", 24);
    Expect(std::string(fsao::DetectContainer(signals).runtime) == "kubernetes", "container");
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
