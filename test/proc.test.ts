// The native probe's parsers (src/proc_parse.cc), fed fixture texts through the addon: capabilities,
// user namespaces and every container signal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { type ContainerSignals, requireBinding } from '../lib/binding';

const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

const CAP_LINUX_IMMUTABLE = 9;
const binding = requireBinding();
const parseEffectiveCapabilities = (status: string): bigint | null => binding.parseProcText('status', status);
const isInUserNamespace = (uidMap: string): boolean => binding.parseProcText('uid_map', uidMap);
const hasCapabilityBit = (mask: bigint, bit: number): boolean => ((mask >> BigInt(bit)) & 1n) === 1n;
// The runtime under its JavaScript name, as platformSupportInfo() reports it.
const detectContainer = (signals: ContainerSignals): { inContainer: boolean; runtime: string | null } => {
  const { inContainer, containerRuntime } = binding.parseProcText('container', signals);
  return { inContainer, runtime: containerRuntime };
};

const HOST: ContainerSignals = {
  dockerEnv: false,
  containerEnv: false,
  systemdContainer: null,
  pid1Environ: null,
  cgroup: fixture('cgroup-v2-host.txt'),
  mountinfo: fixture('mountinfo-host.txt'),
  kubernetesServiceHost: null,
};

describe('parseEffectiveCapabilities', () => {
  it('reads a root process with every capability', () => {
    const mask = parseEffectiveCapabilities(fixture('status-root.txt'));
    expect(mask).toBe(0x000001ffffffffffn);
    expect(hasCapabilityBit(mask!, CAP_LINUX_IMMUTABLE)).toBe(true);
  });

  it("reads Docker's default set, which lacks CAP_LINUX_IMMUTABLE", () => {
    const mask = parseEffectiveCapabilities(fixture('status-docker-default.txt'));
    expect(mask).toBe(0x00000000a80425fbn);
    expect(hasCapabilityBit(mask!, CAP_LINUX_IMMUTABLE)).toBe(false);
  });

  it('reads an unprivileged user with no capability', () => {
    const mask = parseEffectiveCapabilities(fixture('status-user.txt'));
    expect(mask).toBe(0n);
    expect(hasCapabilityBit(mask!, CAP_LINUX_IMMUTABLE)).toBe(false);
  });

  it('keeps bits above 31, which a 32-bit & would lose', () => {
    const mask = parseEffectiveCapabilities('CapEff:\t0000020000000200\n')!;
    expect(hasCapabilityBit(mask, 41)).toBe(true);
    expect(hasCapabilityBit(mask, CAP_LINUX_IMMUTABLE)).toBe(true);
    expect(hasCapabilityBit(mask, 8)).toBe(false);
  });

  it('gives null when the line is missing, malformed or wider than 64 bits', () => {
    expect(parseEffectiveCapabilities('Name:\tnode\nCapPrm:\t0000000000000200\n')).toBeNull();
    expect(parseEffectiveCapabilities('CapEff:\t00000000000002zz\n')).toBeNull();
    expect(parseEffectiveCapabilities('CapEff:\n')).toBeNull();
    expect(parseEffectiveCapabilities('CapEff:\t100000000000000000\n')).toBeNull();
  });

  it('reads the full 64 bits, and the CapEff line wherever it is', () => {
    expect(parseEffectiveCapabilities('CapInh:\t0\nCapEff:\tffffffffffffffff\nCapBnd:\t0\n')).toBe(0xffffffffffffffffn);
    expect(parseEffectiveCapabilities('CapEff:\t0000000000000200')).toBe(0x200n);
  });
});

describe('isInUserNamespace', () => {
  it('is false for the initial namespace identity map', () => {
    expect(isInUserNamespace('         0          0 4294967295\n')).toBe(false);
  });

  it('is true for a rootless container map', () => {
    expect(isInUserNamespace(fixture('uid_map-rootless.txt'))).toBe(true);
  });

  it('is true for a single shifted range', () => {
    expect(isInUserNamespace('0 100000 65536\n')).toBe(true);
  });

  it('is true for the identity map followed by another range, and for an empty map', () => {
    expect(isInUserNamespace('0 0 4294967295\n1 1 1\n')).toBe(true);
    expect(isInUserNamespace('')).toBe(true);
  });
});

describe('detectContainer', () => {
  it('finds nothing on a host with cgroup v2', () => {
    expect(detectContainer(HOST)).toEqual({ inContainer: false, runtime: null });
  });

  it('finds docker from a cgroup v1 path', () => {
    expect(detectContainer({ ...HOST, cgroup: fixture('cgroup-v1-docker.txt') })).toEqual({
      inContainer: true,
      runtime: 'docker',
    });
  });

  it('finds docker under cgroup v2 from /.dockerenv and the mounts', () => {
    const signals = { ...HOST, dockerEnv: true, cgroup: '0::/\n', mountinfo: fixture('mountinfo-docker.txt') };
    expect(detectContainer(signals)).toEqual({ inContainer: true, runtime: 'docker' });
    expect(detectContainer({ ...signals, dockerEnv: false })).toEqual({ inContainer: true, runtime: 'docker' });
  });

  it('finds podman from /run/.containerenv and from libpod cgroups', () => {
    expect(detectContainer({ ...HOST, containerEnv: true, cgroup: '0::/\n' }).runtime).toBe('podman');
    expect(detectContainer({ ...HOST, cgroup: fixture('cgroup-v2-podman.txt') }).runtime).toBe('podman');
  });

  it('finds kubernetes from kubepods cgroups, over the docker signals of its nodes', () => {
    const signals = { ...HOST, dockerEnv: true, cgroup: fixture('cgroup-v1-kubernetes.txt') };
    expect(detectContainer(signals)).toEqual({ inContainer: true, runtime: 'kubernetes' });
  });

  it('finds kubernetes under cgroup v2 from KUBERNETES_SERVICE_HOST', () => {
    const signals = { ...HOST, cgroup: '0::/\n', mountinfo: fixture('mountinfo-overlay-root.txt') };
    expect(detectContainer({ ...signals, kubernetesServiceHost: '10.96.0.1' }).runtime).toBe('kubernetes');
    expect(detectContainer({ ...signals, kubernetesServiceHost: '' }).runtime).toBeNull();
  });

  it('finds containerd from its cgroup path', () => {
    expect(detectContainer({ ...HOST, cgroup: fixture('cgroup-v1-containerd.txt') }).runtime).toBe('containerd');
  });

  it('finds lxc from its cgroup path and from container=lxc', () => {
    expect(detectContainer({ ...HOST, cgroup: fixture('cgroup-v2-lxc.txt') }).runtime).toBe('lxc');
    expect(detectContainer({ ...HOST, pid1Environ: 'PATH=/bin\0container=lxc\0' }).runtime).toBe('lxc');
  });

  it('finds systemd-nspawn from /run/systemd/container', () => {
    expect(detectContainer({ ...HOST, systemdContainer: 'systemd-nspawn\n' })).toEqual({
      inContainer: true,
      runtime: 'systemd-nspawn',
    });
  });

  it('finds docker and lxc only from their own cgroup path segments', () => {
    expect(detectContainer({ ...HOST, cgroup: '0::/system.slice/docker-3f2a.scope\n' }).runtime).toBe('docker');
    expect(detectContainer({ ...HOST, cgroup: '0::/user.slice/dockerd-helper\n' }).runtime).toBeNull();
    expect(detectContainer({ ...HOST, cgroup: '0::/lxc.payload.web\n' }).runtime).toBe('lxc');
  });

  it('prefers /run/systemd/container over PID 1, and ignores an empty one', () => {
    expect(detectContainer({ ...HOST, systemdContainer: 'docker\n', pid1Environ: 'container=lxc\0' }).runtime).toBe('docker');
    expect(detectContainer({ ...HOST, systemdContainer: '\n', pid1Environ: 'container=lxc\0' }).runtime).toBe('lxc');
  });

  it('counts an unknown container= value and an overlay root, without naming a runtime', () => {
    expect(detectContainer({ ...HOST, pid1Environ: 'container=wsl\0' })).toEqual({ inContainer: true, runtime: null });
    expect(detectContainer({ ...HOST, mountinfo: fixture('mountinfo-overlay-root.txt') })).toEqual({
      inContainer: true,
      runtime: null,
    });
  });
});
