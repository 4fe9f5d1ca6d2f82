// Linux probes: the filesystem type of a path or fd (statfs(2) magic numbers), and what this process may
// do here: CAP_LINUX_IMMUTABLE, a user namespace, a container. Parsing is in proc_parse.cc.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "flags.h"
#include "proc_parse.h"

namespace fsao {
namespace {

struct FilesystemMagic {
  uint32_t magic;
  const char* name;
};

// From linux/magic.h and the filesystems' own sources. ext2 and ext3 share ext4's magic, and all
// three keep the flags, so the newest name is reported.
constexpr FilesystemMagic kFilesystems[] = {
    {0xEF53, "ext4"},          {0x58465342, "xfs"},       {0x9123683E, "btrfs"},
    {0xF2F52010, "f2fs"},      {0x2FC12FC1, "zfs"},       {0xCA451A4E, "bcachefs"},
    {0x01021994, "tmpfs"},     {0x794C7630, "overlayfs"}, {0x858458F6, "ramfs"},
    {0x6969, "nfs"},           {0x65735546, "fuse"},      {0xFF534D42, "cifs"},
    {0xFE534D42, "smb2"},      {0x01021997, "9p"},        {0x4D44, "vfat"},
    {0x2011BAB0, "exfat"},     {0x5346544E, "ntfs"},      {0x73717368, "squashfs"},
    {0x9660, "iso9660"},       {0xE0F5E1E2, "erofs"},     {0x15013346, "udf"},
    {0x52654973, "reiserfs"},  {0x3153464A, "jfs"},       {0x3434, "nilfs"},
    {0x01161970, "gfs2"},      {0x00C36400, "ceph"},      {0xF15F, "ecryptfs"},
    {0x786F4256, "vboxsf"},    {0x61756673, "aufs"},      {0x9FA0, "proc"},
    {0x62656572, "sysfs"},     {0x63677270, "cgroup2"},   {0x27E0EB, "cgroup"},
    {0x1373, "devfs"},         {0x73636673, "securityfs"}, {0x6E736673, "nsfs"},
    {0xBAD1DEA, "futexfs"},    {0x50495045, "pipefs"},    {0x534F434B, "sockfs"},
};

std::string NameOf(const struct statfs& info) {
  // f_type is a signed word: magics above 0x7FFFFFFF come back negative on 32-bit machines.
  const uint32_t magic = static_cast<uint32_t>(info.f_type);
  for (const FilesystemMagic& known : kFilesystems) {
    if (known.magic == magic) return known.name;
  }
  char unknown[32];
  std::snprintf(unknown, sizeof unknown, "unknown (0x%x)", magic);
  return unknown;
}

// /proc files report a size of 0, so they are read to the end. mountinfo can run to megabytes on a
// host with many containers; a cap keeps a pathological one from costing more than the probe is worth.
constexpr size_t kMaxProcText = 8 << 20;

std::optional<std::string> ReadText(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;  // missing, or unreadable (PID 1's environ often is): one signal fewer
  std::string text;
  char buffer[8192];
  while (text.size() < kMaxProcText) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      close(fd);
      return std::nullopt;
    }
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return text;
}

bool Exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

}  // namespace

OsResult FilesystemName(const std::string& path, std::string* name) {
  struct statfs info;
  if (statfs(path.c_str(), &info) != 0) return {errno, "statfs"};
  *name = NameOf(info);
  return {};
}

OsResult FilesystemNameOf(int fd, std::string* name) {
  struct statfs info;
  if (fstatfs(fd, &info) != 0) return {errno, "fstatfs"};
  *name = NameOf(info);
  return {};
}

void ProbeProcess(ProcessFacts* facts) {
  const std::optional<std::string> status = ReadText("/proc/self/status");
  const std::optional<uint64_t> capabilities = status ? ParseEffectiveCapabilities(*status) : std::nullopt;
  facts->has_capability = capabilities && HasCapabilityBit(*capabilities, kCapLinuxImmutable);
  const std::optional<std::string> uid_map = ReadText("/proc/self/uid_map");
  facts->user_namespace = uid_map && IsInUserNamespace(*uid_map);

  ContainerSignals signals;
  signals.docker_env = Exists("/.dockerenv");
  signals.container_env = Exists("/run/.containerenv");
  signals.systemd_container = ReadText("/run/systemd/container");
  signals.pid1_environ = ReadText("/proc/1/environ");
  signals.cgroup = ReadText("/proc/self/cgroup");
  signals.mountinfo = ReadText("/proc/self/mountinfo");
  // Called on the JavaScript thread, the only one that changes the environment (process.env).
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) signals.kubernetes_service_host = host;
  const ContainerInfo container = DetectContainer(signals);
  facts->in_container = container.in_container;
  facts->container_runtime = container.runtime;
}

}  // namespace fsao
