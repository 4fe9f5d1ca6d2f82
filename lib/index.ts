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
  protectFileDescriptorSync,
  type ProtectFileDescriptorOptions,
  type FileAttributes,
  type ProtectOptions,
} from './attributes';
export { platformSupportInfo, type PlatformSupportInfo, type PlatformSupportOptions } from './platform';
export { AppendOnlyError, type AppendOnlyErrorDetails } from './errors';
export type { PathLike } from './paths';
export type { ContainerRuntime } from './binding';
export * from './log/index';
export { generateCheckpointKey, signNote, openNote, type CheckpointSigner, type CheckpointVerifier, type OpenedNote, type NoteSignature } from './checkpoint/note';
export { signCheckpoint, openCheckpoint, formatCheckpointBody, parseCheckpointBody, type Checkpoint as CheckpointBody, type OpenedCheckpoint } from './checkpoint/checkpoint';
export { checkInclusion, checkConsistency, formatProof, parseProof, type InclusionProof, type ConsistencyProof, type ParsedProof, type CheckResult } from './checkpoint/proof';
export { treeOfLog, verifyCheckpoint, proveInclusion, proveConsistency, type LogTree, type CheckpointReport } from './checkpoint/log-tree';
