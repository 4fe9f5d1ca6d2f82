// Pure parsers for the /proc and environment texts the platform probe reads; fed fixture strings in tests.

/** The capability bit that lets a process set or clear the append-only and immutable flags. */
export const CAP_LINUX_IMMUTABLE = 9;

/** The effective capability mask from /proc/self/status, or null when the line is missing. */
export function parseEffectiveCapabilities(status: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  // BigInt: the mask is 64 bits, and JavaScript's & would cut it to 32.
  return match?.[1] !== undefined ? BigInt(`0x${match[1]}`) : null;
}

export function hasCapabilityBit(mask: bigint, bit: number): boolean {
  return ((mask >> BigInt(bit)) & 1n) === 1n;
}

/** True when /proc/self/uid_map shows anything but the initial namespace's identity map. */
export function isInUserNamespace(uidMap: string): boolean {
  const lines = uidMap.trim().split('\n').map((line) => line.trim().split(/\s+/).join(' '));
  return !(lines.length === 1 && lines[0] === '0 0 4294967295');
}

export type ContainerRuntime = 'docker' | 'podman' | 'kubernetes' | 'containerd' | 'lxc' | 'systemd-nspawn';

/** What the probe gathers; null where a file is missing or unreadable. */
export interface ContainerSignals {
  /** /.dockerenv exists */
  dockerEnv: boolean;
  /** /run/.containerenv exists (podman) */
  containerEnv: boolean;
  /** contents of /run/systemd/container */
  systemdContainer: string | null;
  /** /proc/1/environ, NUL-separated */
  pid1Environ: string | null;
  /** /proc/self/cgroup */
  cgroup: string | null;
  /** /proc/self/mountinfo */
  mountinfo: string | null;
  /** the process environment (KUBERNETES_SERVICE_HOST) */
  env: Readonly<Record<string, string | undefined>>;
}

export interface ContainerInfo {
  inContainer: boolean;
  runtime: ContainerRuntime | null;
}

// The names systemd and the runtimes write into `container=` and /run/systemd/container.
const RUNTIME_NAMES: Record<string, ContainerRuntime> = {
  docker: 'docker',
  podman: 'podman',
  lxc: 'lxc',
  'lxc-libvirt': 'lxc',
  'systemd-nspawn': 'systemd-nspawn',
  kubernetes: 'kubernetes',
  containerd: 'containerd',
};

function pid1ContainerVariable(environ: string | null): string | null {
  const entry = environ?.split('\0').find((item) => item.startsWith('container='));
  return entry !== undefined ? entry.slice('container='.length) : null;
}

function runtimeFromCgroup(cgroup: string): ContainerRuntime | null {
  if (/kubepods/.test(cgroup)) return 'kubernetes';
  if (/libpod/.test(cgroup)) return 'podman';
  if (/\/docker[/-]/.test(cgroup)) return 'docker';
  if (/containerd/.test(cgroup)) return 'containerd';
  if (/\/lxc[/.]|lxc\.payload/.test(cgroup)) return 'lxc';
  return null;
}

function hasOverlayRoot(mountinfo: string): boolean {
  return mountinfo.split('\n').some((line) => {
    const [before, after] = line.split(' - ');
    return before?.split(' ')[4] === '/' && after?.split(' ')[0] === 'overlay';
  });
}

/**
 * No signal alone is reliable, so every one counts towards "in a container", and the
 * runtime is the most specific name any of them gives: Kubernetes runs its pods on docker or
 * containerd, so it wins over both.
 */
export function detectContainer(signals: ContainerSignals): ContainerInfo {
  const declared = signals.systemdContainer?.trim() || pid1ContainerVariable(signals.pid1Environ);
  const fromCgroup = signals.cgroup !== null ? runtimeFromCgroup(signals.cgroup) : null;
  const dockerMounts = signals.mountinfo?.includes('/docker/containers/') ?? false;

  const candidates: (ContainerRuntime | null | undefined)[] = [
    signals.env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : null,
    fromCgroup === 'kubernetes' ? 'kubernetes' : null,
    signals.containerEnv ? 'podman' : null,
    declared ? RUNTIME_NAMES[declared] : null,
    fromCgroup,
    signals.dockerEnv || dockerMounts ? 'docker' : null,
  ];
  const runtime = candidates.find((candidate) => candidate != null) ?? null;
  const inContainer =
    runtime !== null || Boolean(declared) || (signals.mountinfo !== null && hasOverlayRoot(signals.mountinfo));
  return { inContainer, runtime };
}
