// The public surface of fs-append-only: re-exports only.
export {
  protectAppendOnly,
  protectAppendOnlySync,
  unprotectAppendOnly,
  unprotectAppendOnlySync,
  isAppendOnly,
  isAppendOnlySync,
  setImmutable,
  setImmutableSync,
  clearImmutable,
  clearImmutableSync,
  isImmutable,
  isImmutableSync,
  getFileAttributes,
  getFileAttributesSync,
  type FileAttributes,
  type ProtectOptions,
} from './attributes';
export { platformSupportInfo, type PlatformSupportInfo, type PlatformSupportOptions } from './platform';
export { AppendOnlyError, type AppendOnlyErrorDetails } from './errors';
export type { PathLike } from './paths';
export type { ContainerRuntime } from './proc';
export * from './log/index';
