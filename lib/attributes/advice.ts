// The sentences that tell a user what to do, shared by error messages and platformSupportInfo().notes.
import { RECOMMENDED_FILESYSTEMS } from './filesystems';
import type { ContainerRuntime } from '../binding';

const CAPABILITY_FIXES: Record<ContainerRuntime | 'host', string> = {
  docker:
    'Run the container with `docker run --cap-add LINUX_IMMUTABLE` (Compose: `cap_add: [LINUX_IMMUTABLE]`)',
  podman:
    'Run the container with `podman run --cap-add LINUX_IMMUTABLE`, as root: rootless podman maps users through a ' +
    'user namespace, where the capability does not count',
  kubernetes:
    'Add the capability to the container in the pod spec: ' +
    '`securityContext: { capabilities: { add: ["LINUX_IMMUTABLE"] } }` (a restricted Pod Security Standard forbids it)',
  containerd:
    'Start the container with `nerdctl run --cap-add LINUX_IMMUTABLE`, or add CAP_LINUX_IMMUTABLE to the OCI ' +
    "spec's process.capabilities",
  lxc: 'Run a privileged LXC container and keep linux_immutable out of its `lxc.cap.drop` list',
  'systemd-nspawn': 'Start the container with `systemd-nspawn --capability=CAP_LINUX_IMMUTABLE`',
  host:
    'Run as root, or grant the capability to Node: ' +
    '`sudo setcap cap_linux_immutable+ep "$(readlink -f "$(command -v node)")"`, or ' +
    '`AmbientCapabilities=CAP_LINUX_IMMUTABLE` in its systemd unit',
};

export function capabilityFix(runtime: ContainerRuntime | null): string {
  return CAPABILITY_FIXES[runtime ?? 'host'];
}

export const MISSING_CAPABILITY =
  'this process lacks CAP_LINUX_IMMUTABLE, which setting or clearing the append-only and immutable flags requires';

export const USER_NAMESPACE =
  'this process runs in a user namespace, where its CAP_LINUX_IMMUTABLE does not count: the kernel asks for the ' +
  'capability in the initial namespace';

export const USER_NAMESPACE_FIX =
  'Run the container rootful (without user-namespace remapping), or set the flag from the host with `chattr +a FILE`';

export function filesystemLacksFlags(filesystem: string): string {
  return `the ${filesystem} filesystem keeps no append-only or immutable flag`;
}

export function filesystemFix(): string {
  return `Keep the file on ${RECOMMENDED_FILESYSTEMS}`;
}

export const BSD_PERMISSION =
  "UF_APPEND and UF_IMMUTABLE can be changed only by the file's owner or root, and SF_APPEND and SF_IMMUTABLE " +
  'only by root, and not at all while securelevel > 0';

export const BSD_PERMISSION_FIX =
  "Run as the file's owner, or as root for { system: true } (SF_* flags at securelevel > 0 need single-user mode)";

export function unsupportedPlatform(platform: string): string {
  return `this platform (${platform}) has no append-only file attribute`;
}

export const UNSUPPORTED_PLATFORM_FIX =
  'Keep audit logs on Linux, macOS or FreeBSD for kernel-enforced protection';

/** Joins a cause and a fix into the tail of a message: "Cause. Fix." */
export function sentence(cause: string, fix: string): string {
  const capitalized = cause.charAt(0).toUpperCase() + cause.slice(1);
  return fix ? `${capitalized}. ${fix}.` : `${capitalized}.`;
}
