// The public surface of fs-append-only: re-exports only.
// The shipped declarations name Node's own types (Buffer and URL in PathLike, NodeJS.Platform), and
// since TypeScript 6 a project loads no @types package it does not list in "types": this makes every
// consumer of index.d.ts load @types/node. preserve="true" keeps the directive in the emitted .d.ts,
// which TypeScript 5.5 and later otherwise drop (TypeScript 5.5 release notes, "Simplified Reference
// Directive Declaration Emit").
/// <reference types="node" preserve="true" />
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
  platformSupportInfo,
  type PlatformSupportInfo,
  type PlatformSupportOptions,
} from './attributes';
export { AppendOnlyError, type AppendOnlyErrorDetails } from './errors';
export type { PathLike } from './paths';
export type { ContainerRuntime } from './binding';
export * from './log/index';
export { generateCheckpointKey, signNote, openNote, type CheckpointSigner, type CheckpointVerifier, type OpenedNote, type NoteSignature } from './checkpoint/note';
export { signCheckpoint, openCheckpoint, formatCheckpointBody, parseCheckpointBody, type Checkpoint as CheckpointBody, type OpenedCheckpoint } from './checkpoint/checkpoint';
export { checkInclusion, checkConsistency, formatProof, parseProof, type InclusionProof, type ConsistencyProof, type ParsedProof, type CheckResult } from './checkpoint/proof';
export { treeOfLog, verifyCheckpoint, proveInclusion, proveConsistency, type LogTree, type CheckpointReport } from './checkpoint/log-tree';
