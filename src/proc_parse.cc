// Pure parsers for the Linux probe: capability mask, user namespace map, container signals.
#include "proc_parse.h"

#include <cstring>
#include <vector>

namespace fsao {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string Trim(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    if (at == std::string::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

// Whitespace-separated fields, runs of whitespace counting as one separator.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && IsSpace(line[at])) ++at;
    const size_t start = at;
    while (at < line.size() && !IsSpace(line[at])) ++at;
    if (at > start) fields.push_back(line.substr(start, at - start));
  }
  return fields;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// The value of PID 1's container= variable, which systemd and the runtimes set (systemd's
// "Container Interface" document), or nothing.
std::optional<std::string> Pid1ContainerVariable(const std::optional<std::string>& environ) {
  if (!environ) return std::nullopt;
  static const char kName[] = "container=";
  for (const std::string& entry : Split(*environ, '\0')) {
    if (entry.compare(0, sizeof kName - 1, kName) == 0) return entry.substr(sizeof kName - 1);
  }
  return std::nullopt;
}

// The names systemd and the runtimes write into container= and /run/systemd/container.
const char* RuntimeNamed(const std::string& name) {
  static const struct {
    const char* name;
    const char* runtime;
  } kNames[] = {
      {"docker", "docker"}, {"podman", "podman"}, {"lxc", "lxc"}, {"lxc-libvirt", "lxc"},
      {"systemd-nspawn", "systemd-nspawn"}, {"kubernetes", "kubernetes"}, {"containerd", "containerd"},
  };
  for (const auto& known : kNames) {
    if (name == known.name) return known.runtime;
  }
  return nullptr;
}

// True when `text` has `prefix` followed by one of the characters in `next`.
bool ContainsFollowedBy(const std::string& text, const char* prefix, const char* next) {
  const size_t length = std::strlen(prefix);
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    if (at + length < text.size() && std::strchr(next, text[at + length]) != nullptr) return true;
  }
  return false;
}

// cgroup v1 paths name the runtime; under cgroup v2 a container usually sees only "0::/".
const char* RuntimeFromCgroup(const std::string& cgroup) {
  if (Contains(cgroup, "kubepods")) return "kubernetes";
  if (Contains(cgroup, "libpod")) return "podman";
  if (ContainsFollowedBy(cgroup, "/docker", "/-")) return "docker";
  if (Contains(cgroup, "containerd")) return "containerd";
  if (ContainsFollowedBy(cgroup, "/lxc", "/.") || Contains(cgroup, "lxc.payload")) return "lxc";
  return nullptr;
}

// A mount of type overlay on "/" (proc(5), /proc/pid/mountinfo: field 5 is the mount point, and the
// filesystem type follows the " - " separator).
bool HasOverlayRoot(const std::string& mountinfo) {
  for (const std::string& line : Split(mountinfo, '\n')) {
    const size_t separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    const std::vector<std::string> before = Split(line.substr(0, separator), ' ');
    const std::vector<std::string> after = Split(line.substr(separator + 3), ' ');
    if (before.size() > 4 && before[4] == "/" && after[0] == "overlay") return true;
  }
  return false;
}

}  // namespace

std::optional<uint64_t> ParseEffectiveCapabilities(const std::string& status) {
  static const char kField[] = "CapEff:";
  for (const std::string& line : Split(status, '\n')) {
    if (line.compare(0, sizeof kField - 1, kField) != 0) continue;
    size_t at = sizeof kField - 1;
    while (at < line.size() && IsSpace(line[at])) ++at;
    uint64_t mask = 0;
    size_t digits = 0;
    for (; at < line.size() && HexValue(line[at]) >= 0; ++at, ++digits) {
      if (mask >> 60 != 0) return std::nullopt;  // wider than 64 bits
      mask = (mask << 4) | static_cast<uint64_t>(HexValue(line[at]));
    }
    while (at < line.size() && IsSpace(line[at])) ++at;
    if (digits > 0 && at == line.size()) return mask;
  }
  return std::nullopt;
}

bool IsInUserNamespace(const std::string& uid_map) {
  const std::vector<std::string> lines = Split(Trim(uid_map), '\n');
  if (lines.size() != 1) return true;
  const std::vector<std::string> fields = Fields(lines[0]);
  return !(fields.size() == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295");
}

ContainerInfo DetectContainer(const ContainerSignals& signals) {
  std::optional<std::string> declared;
  if (signals.systemd_container && !Trim(*signals.systemd_container).empty()) {
    declared = Trim(*signals.systemd_container);
  } else {
    declared = Pid1ContainerVariable(signals.pid1_environ);
  }
  const char* from_cgroup = signals.cgroup ? RuntimeFromCgroup(*signals.cgroup) : nullptr;
  const bool docker_mounts = signals.mountinfo && Contains(*signals.mountinfo, "/docker/containers/");
  const bool kubernetes_env = signals.kubernetes_service_host && !signals.kubernetes_service_host->empty();

  const char* const candidates[] = {
      kubernetes_env ? "kubernetes" : nullptr,
      from_cgroup != nullptr && std::strcmp(from_cgroup, "kubernetes") == 0 ? "kubernetes" : nullptr,
      signals.container_env ? "podman" : nullptr,
      declared ? RuntimeNamed(*declared) : nullptr,
      from_cgroup,
      signals.docker_env || docker_mounts ? "docker" : nullptr,
  };
  ContainerInfo info;
  for (const char* candidate : candidates) {
    if (candidate != nullptr) {
      info.runtime = candidate;
      break;
    }
  }
  info.in_container = info.runtime != nullptr || (declared && !declared->empty()) ||
                      (signals.mountinfo && HasOverlayRoot(*signals.mountinfo));
  return info;
}

}  // namespace fsao
