// The OS half of the library: the append-only and immutable flags set, cleared and read through the
// kernel, and platformSupportInfo() saying whether this process can, and what to do when it cannot.
export * from './calls';
export { platformSupportInfo, type PlatformSupportInfo, type PlatformSupportOptions } from './platform';
