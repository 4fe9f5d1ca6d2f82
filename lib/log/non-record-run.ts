// The lines between two records that are not records: hashed as they stream by, judged crash or not.
import { createHash } from 'node:crypto';

import { CRASH_CHECK_BYTES, type NextRecord, type RecoveryData, isCrashLine } from './junk';

/** How many findings a report keeps; the rest are counted. */
export const MAX_FINDINGS = 10_000;
const NEWLINE = Buffer.from('\n');

export class NonRecordRun {
  readonly lines: { line: number; offset: number }[] = [];
  count = 0;
  readonly #hash = createHash('sha256');
  // Lines are copied here and hashed 64 KiB at a time: one hash call per line would dominate a file
  // of millions of short lines.
  readonly #staged = Buffer.allocUnsafe(64 * 1024);
  #stagedBytes = 0;
  length = 0;
  hashable = true;
  /** Every line so far is what a crash could leave after the record before the run. */
  crash = true;
  constructor(
    readonly offset: number,
    readonly next: NextRecord,
  ) {}

  add(line: number, offset: number, bytes: Buffer, length: number, terminated: boolean, oversized: boolean): void {
    if (this.lines.length < MAX_FINDINGS) this.lines.push({ line, offset });
    this.count += 1;
    // An oversized line's bytes were not kept, so nothing vouches for it.
    if (this.crash) this.crash = !oversized && isCrashLine(bytes.subarray(0, CRASH_CHECK_BYTES), bytes[length - 1], length, terminated, this.next);
    if (oversized) this.hashable = false;
    else this.#stage(bytes);
    this.length += length;
    if (terminated) {
      this.#stage(NEWLINE);
      this.length += 1;
    }
  }

  #stage(bytes: Buffer): void {
    if (this.#stagedBytes + bytes.length > this.#staged.length) {
      this.#hash.update(this.#staged.subarray(0, this.#stagedBytes));
      this.#stagedBytes = 0;
      if (bytes.length > this.#staged.length) {
        this.#hash.update(bytes);
        return;
      }
    }
    bytes.copy(this.#staged, this.#stagedBytes);
    this.#stagedBytes += bytes.length;
  }

  digest(): string {
    return this.#hash.copy().update(this.#staged.subarray(0, this.#stagedBytes)).digest('hex');
  }

  /**
   * Whether a recovery record names exactly this run. A line too long to be a record is not kept, so
   * its bytes cannot be hashed: such a run is judged by offset and length, and is reported as
   * tampering anyway (no crash leaves a line that long).
   */
  matches(recovery: RecoveryData): boolean {
    if (recovery.offset !== this.offset || recovery.length !== this.length) return false;
    return !this.hashable || recovery.sha256 === this.digest();
  }
}
