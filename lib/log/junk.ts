// What a crash can leave after the last record: nothing but torn pieces of records.
// An empty line, NUL bytes (a zero-filled tail after a crash), or the start of a record. Anything
// else is not something this library wrote.
const RECORD_START = Buffer.from('{"seq":');

export function looksTorn(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  if (bytes.every((byte) => byte === 0)) return true;
  const compared = Math.min(bytes.length, RECORD_START.length);
  return bytes.subarray(0, compared).equals(RECORD_START.subarray(0, compared));
}

/** What a recovery record says about the torn bytes it closes. */
export interface RecoveryData {
  reason: 'torn-tail';
  /** Where the torn bytes start: right after the last record's newline. */
  offset: number;
  /** How many bytes, including the "~\n" written to terminate them. */
  length: number;
  /** SHA-256 of those bytes. */
  sha256: string;
}
