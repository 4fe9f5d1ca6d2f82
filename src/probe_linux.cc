// Linux: the filesystem type of a path, from statfs(2)'s magic number.
#include <errno.h>
#include <sys/vfs.h>

#include <cstdio>

#include "flags.h"

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

}  // namespace

OsResult FilesystemName(const std::string& path, std::string* name) {
  struct statfs info;
  if (statfs(path.c_str(), &info) != 0) return {errno, "statfs"};
  // f_type is a signed word: magics above 0x7FFFFFFF come back negative on 32-bit machines.
  const uint32_t magic = static_cast<uint32_t>(info.f_type);
  for (const FilesystemMagic& known : kFilesystems) {
    if (known.magic == magic) {
      *name = known.name;
      return {};
    }
  }
  char unknown[32];
  std::snprintf(unknown, sizeof unknown, "unknown (0x%x)", magic);
  *name = unknown;
  return {};
}

}  // namespace fsao
