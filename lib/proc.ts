// The container runtime names platformSupportInfo() reports; the probe that finds them is native (src/probe_linux.cc).
export type { ContainerRuntime } from './binding';
