// What verifyLog() reports, and the options it takes.
import type { Head } from './format';

export type TamperReason =
  | 'hash-mismatch' // the record's bytes are not the ones its hash was computed over
  | 'chain-break' // its prev is not the hash of the record before it (deleted, inserted, reordered)
  | 'sequence-gap' // its seq is not one more than the record before it
  | 'malformed-line' // not a record, and not what a crash left (closed by a recovery record or not)
  | 'bad-recovery' // a recovery record that does not match the bytes before it
  | 'bad-signature' // signed, but not by the key its keyId names
  | 'unknown-key' // signed with a keyId not in `keys`
  | 'unsigned' // keys were given, and this record carries no signature
  | 'anchor-mismatch' // the record at the anchor's seq does not have the anchor's hash
  | 'truncated-below-anchor' // the log ends before the anchor's seq
  | 'since-mismatch' // the trusted starting point given in `since` is not in the log
  | 'missing-segment' // a directory log lacks a segment its chain needs, and no prune record accounts for it
  | 'unsealed-segment' // a segment that is not the last ends without a seal record
  | 'seal-mismatch' // a seal record names a file that is not the segment after it
  | 'after-seal' // a record follows the seal of its segment
  | 'bad-checkpoint'; // with checkpointKeys: a checkpoint record whose note does not verify, or signs another tree

export interface TamperedEntry {
  /** The segment file the line is in (directory logs only). */
  file?: string;
  /** 1-based line number in the file (counted from `since.offset` when given). */
  line: number;
  seq?: number;
  /** Byte offset of the line. */
  offset: number;
  reason: TamperReason;
  detail: string;
}

export interface VerifiedHead extends Head {
  /** Byte offset just after the head's line: pass the head as `since` to verify only what comes later. */
  offset: number;
  /** The segment file holding the head (directory logs only): `since` starts there. */
  segment?: string;
}

/** One segment file of a directory log, as read. */
export interface SegmentReport {
  file: string;
  /** The seq of its first and last records (null for a segment with none). */
  firstSeq: number | null;
  lastSeq: number | null;
  records: number;
  /** Whether it ends with a seal record. */
  sealed: boolean;
}

export interface VerifyReport {
  status: 'intact' | 'tampered';
  ok: boolean;
  /** Records read and checked. */
  records: number;
  /** Lines with at least one finding. */
  tamperedEntries: number;
  /** The findings, in file order (the first 10,000). */
  tampered: TamperedEntry[];
  head: VerifiedHead | null;
  /** Torn bytes at the end that no recovery record closes yet: a crash, not tampering. */
  tornTail: { file?: string; offset: number; length: number } | null;
  /** Torn bytes that a recovery record closed: crashes the writer recovered from. */
  recovered: { file?: string; line: number; seq: number; offset: number; length: number }[];
  /** Key ids found on records that `keys` does not hold. */
  unknownKeyIds: string[];
  /** Whether signatures were checked (only when `keys` is given). */
  signaturesChecked: boolean;
  /** Directory logs: the segments read, in chain order; [] for a single file. */
  segments: SegmentReport[];
  /**
   * The first record read continues a chain whose earlier records are elsewhere: a segment verified on
   * its own, or a directory log whose first segments were pruned (`pruned` says by which records).
   */
  startsMidChain: { seq: number; prev: string } | null;
  /** The segments prune records say were removed, in chain order. */
  pruned: PrunedSegment[];
  /** With checkpointKeys: the last checkpoint record that verified (its note and the tree it signs). */
  checkpoint: { seq: number; size: number; root: string; note: string } | null;
}

/** What a prune record says about one segment it removed. */
export interface PrunedSegment {
  file: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
}

export interface VerifyOptions {
  /** keyId -> secret. With keys, every record must carry a valid signature by one of them. */
  keys?: Record<string, string | Buffer>;
  /** A { seq, hash } kept elsewhere: the log must hold that record, unchanged. */
  anchor?: Head;
  /** A head trusted from an earlier check: verify only what follows it. With its offset (and segment), reading starts there. */
  since?: Head & { offset?: number; segment?: string };
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Verifier keys (`<name>+<hash>+<base64>`) of checkpoint notes: every checkpoint record is checked. */
  checkpointKeys?: string[];
}
