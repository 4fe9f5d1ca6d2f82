// Pure parsers for the /proc texts and container signals the Linux probe reads; no I/O and no N-API, so
// tests feed them fixture texts.
#ifndef FS_APPEND_ONLY_PROC_PARSE_H
#define FS_APPEND_ONLY_PROC_PARSE_H

#include <cstdint>
#include <optional>
#include <string>

namespace fsao {

// The capability that lets a process set or clear the append-only and immutable flags
// (include/uapi/linux/capability.h).
constexpr int kCapLinuxImmutable = 9;

// The effective capability mask from /proc/self/status ("CapEff:\t000001ffffffffff"), or nothing when
// the line is missing or malformed. The mask is 64 bits wide (proc(5)).
std::optional<uint64_t> ParseEffectiveCapabilities(const std::string& status);

inline bool HasCapabilityBit(uint64_t mask, int bit) { return bit >= 0 && bit < 64 && ((mask >> bit) & 1u) != 0; }

// True when /proc/self/uid_map shows anything but the initial namespace's identity map
// "0 0 4294967295" (user_namespaces(7)).
bool IsInUserNamespace(const std::string& uid_map);

// What the probe gathers; nothing where a file is missing or unreadable.
struct ContainerSignals {
  bool docker_env = false;                      // /.dockerenv exists
  bool container_env = false;                   // /run/.containerenv exists (podman)
  std::optional<std::string> systemd_container;  // /run/systemd/container
  std::optional<std::string> pid1_environ;       // /proc/1/environ, NUL-separated
  std::optional<std::string> cgroup;             // /proc/self/cgroup
  std::optional<std::string> mountinfo;          // /proc/self/mountinfo
  std::optional<std::string> kubernetes_service_host;  // the environment variable
};

struct ContainerInfo {
  bool in_container = false;
  // "docker", "podman", "kubernetes", "containerd", "lxc", "systemd-nspawn", or nullptr.
  const char* runtime = nullptr;
};

// No signal alone is reliable, so every one counts towards "in a container", and the runtime is the
// most specific name any of them gives: Kubernetes runs its pods on docker or containerd, so it wins.
ContainerInfo DetectContainer(const ContainerSignals& signals);

}  // namespace fsao

#endif
