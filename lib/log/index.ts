// The hash-chained log: writer, reader and verifier. It needs the addon only for flock and protection.
export { AppendOnlyLog, type Checkpoint, type CheckpointOptions, type LogKey, type OpenOptions, type RotateOptions } from './writer';
export { readLog, type LogRecord, type ReadOptions } from './reader';
export {
  verifyLog,
  type PrunedSegment,
  type SegmentReport,
  type TamperReason,
  type TamperedEntry,
  type VerifiedHead,
  type VerifyOptions,
  type VerifyReport,
} from './verify';
export { MAX_RECORD_BYTES, type Head } from './format';
export { MAX_DATA_BYTES } from './serialize';
export { pruneLog, sealLog, type PruneOptions, type SealOptions } from './retention';
