// What a crash can leave after the last record, told apart from bytes someone else wrote.
//
// A writer appends whole records with O_APPEND, so a crash (SIGKILL, a full disk, a power cut) can only
// leave a prefix of the record that comes next: `{"seq":<last + 1>,"ts":"...","prev":"<last hash>"...`
// cut anywhere before its newline. A power cut on ext4 or xfs can also leave blocks that were never
// written as NUL bytes, so a piece may start with NULs, or turn into NULs part-way. And when the writer
// closes such a piece it adds "~\n" (so the piece never parses as a record): closed pieces stay crash
// pieces. Anything else after the last record, above all a complete line that is not a record, was
// written by someone else: an edit of the last records, CRLF line endings, an `echo >> log`.
// (A power cut that zeroed the start of a record whose end reached the disk would leave a complete line
// behind NUL bytes; ext4 and xfs write a file's data before its new size, so that is not expected, and
// such a line is reported as not a record.)

/** The record a crash could have been writing: the one after the last valid record. */
export interface NextRecord {
  seq: number;
  /** The last valid record's hash (GENESIS for a log with none). */
  prev: string;
}

/** How many bytes of a line the crash check reads: the record's fixed header fits easily. */
export const CRASH_CHECK_BYTES = 160;

const NUL = 0x00;
const TILDE = 0x7e;

// The timestamp's shape, character by character: d is a digit, anything else stands for itself.
const TS_SHAPE = 'dddd-dd-ddTdd:dd:dd.dddZ';

function isPrefixOf(bytes: Buffer, from: number, text: string): { matched: boolean; end: number } {
  const length = Math.min(bytes.length - from, text.length);
  for (let i = 0; i < length; i += 1) {
    if (bytes[from + i] !== text.charCodeAt(i)) return { matched: false, end: from + i };
  }
  return { matched: true, end: from + length };
}

function isTimestampPrefix(bytes: Buffer, from: number): { matched: boolean; end: number } {
  const length = Math.min(bytes.length - from, TS_SHAPE.length);
  for (let i = 0; i < length; i += 1) {
    const byte = bytes[from + i]!;
    const shape = TS_SHAPE[i]!;
    const ok = shape === 'd' ? byte >= 0x30 && byte <= 0x39 : byte === shape.charCodeAt(0);
    if (!ok) return { matched: false, end: from + i };
  }
  return { matched: true, end: from + length };
}

/**
 * Whether `start` (the first bytes of a piece with no newline, at most CRASH_CHECK_BYTES are looked at)
 * can be what a crash left while writing `next`: NULs, or a prefix of the record's fixed header (the
 * exact seq and prev), possibly followed by NULs to the end of what is shown.
 */
export function isCrashPiece(start: Buffer, next: NextRecord): boolean {
  if (start.length === 0) return true;
  // Blocks a power cut left unwritten read as NULs to the end of what is shown: NULs followed by text
  // are someone's bytes.
  const firstNul = start.indexOf(NUL);
  if (firstNul !== -1 && !start.subarray(firstNul).every((byte) => byte === NUL)) return false;
  if (firstNul === 0) return true;
  const piece = firstNul === -1 ? start : start.subarray(0, firstNul);
  let at = isPrefixOf(piece, 0, `{"seq":${next.seq},"ts":"`);
  if (!at.matched) return false;
  at = isTimestampPrefix(piece, at.end);
  if (!at.matched) return false;
  at = isPrefixOf(piece, at.end, `","prev":"${next.prev}"`);
  // What follows prev (type, keyId, data) has no fixed form worth checking: the seq and prev already
  // tie the piece to the one record that could have been torn here.
  return at.matched;
}

/**
 * Whether one line after the last record can be crash debris. `start` holds the line's first bytes (at
 * least CRASH_CHECK_BYTES of them when the line is that long), `lastByte` its last byte before the
 * newline, `terminated` whether a newline follows it.
 *
 * - The unterminated last piece of a file: a crash piece.
 * - A complete line: only a crash piece the writer closed with "~" (its recovery record was torn in
 *   turn). No crash writes a newline that is not a record's own, so any other complete line, NUL bytes
 *   included, is someone else's.
 */
export function isCrashLine(start: Buffer, lastByte: number | undefined, length: number, terminated: boolean, next: NextRecord): boolean {
  if (!terminated) return isCrashPiece(start, next);
  if (length < 2 || lastByte !== TILDE) return false;
  // The piece without its "~" (when the whole line is shown, drop the "~" itself).
  const piece = start.length === length ? start.subarray(0, length - 1) : start;
  return isCrashPiece(piece, next);
}

/** What a recovery record says about the bytes it closes. */
export interface RecoveryData {
  /** 'torn-tail': what a crash left. 'foreign-bytes': bytes this library did not write (verifyLog reports them). */
  reason: RecoveryReason;
  /** Where the closed bytes start: right after the last record's newline. */
  offset: number;
  /** How many bytes, including the "~\n" written to terminate them. */
  length: number;
  /** SHA-256 of those bytes. */
  sha256: string;
}

export type RecoveryReason = 'torn-tail' | 'foreign-bytes';
