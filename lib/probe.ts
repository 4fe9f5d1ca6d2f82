// Reads what the process can do here: capability, user namespace, container. Parsing is in proc.ts.
import { existsSync, readFileSync } from 'node:fs';

import {
  CAP_LINUX_IMMUTABLE,
  type ContainerInfo,
  detectContainer,
  hasCapabilityBit,
  isInUserNamespace,
  parseEffectiveCapabilities,
} from './proc';

export interface ProcessFacts {
  /** Linux: CapEff has CAP_LINUX_IMMUTABLE. BSD: true, the owner may set UF_APPEND. Elsewhere false. */
  hasCapability: boolean;
  userNamespace: boolean;
  container: ContainerInfo;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return null; // missing, or unreadable (PID 1's environ often is): one signal fewer
  }
}

function probeLinux(): ProcessFacts {
  const capabilities = parseEffectiveCapabilities(readText('/proc/self/status') ?? '');
  const uidMap = readText('/proc/self/uid_map');
  return {
    hasCapability: capabilities !== null && hasCapabilityBit(capabilities, CAP_LINUX_IMMUTABLE),
    userNamespace: uidMap !== null && isInUserNamespace(uidMap),
    container: detectContainer({
      dockerEnv: existsSync('/.dockerenv'),
      containerEnv: existsSync('/run/.containerenv'),
      systemdContainer: readText('/run/systemd/container'),
      pid1Environ: readText('/proc/1/environ'),
      cgroup: readText('/proc/self/cgroup'),
      mountinfo: readText('/proc/self/mountinfo'),
      env: process.env,
    }),
  };
}

export function probeProcess(): ProcessFacts {
  if (process.platform === 'linux') return probeLinux();
  const bsd = process.platform === 'darwin' || process.platform === 'freebsd';
  return { hasCapability: bsd, userNamespace: false, container: { inContainer: false, runtime: null } };
}

/** How this platform changes the flags, or 'none' where it has none (Windows, ...). */
export function flagMethod(): 'ioctl' | 'chflags' | 'none' {
  const platform = process.platform;
  if (platform === 'linux') return 'ioctl';
  if (platform === 'darwin' || platform === 'freebsd') return 'chflags';
  return 'none';
}
