// verifyLog(): streams a log and reports every record that is not as it was written.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

import { type PathLike, toTarget } from '../paths';
import { explainLogFailure } from './errors';
import { GENESIS, type Head, type ParsedLine, hashMatches, parseLine, signatureMatches } from './format';
import { CRASH_CHECK_BYTES, type NextRecord, type RecoveryData, isCrashLine } from './junk';
import { readLines } from './lines';
import { loadBinding } from '../binding';
import { checkFunction, checkInteger, checkOptions, invalidArgType, invalidArgValue } from '../validate';

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
  | 'since-mismatch'; // the trusted starting point given in `since` is not in the log

export interface TamperedEntry {
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
  tornTail: { offset: number; length: number } | null;
  /** Torn bytes that a recovery record closed: crashes the writer recovered from. */
  recovered: { line: number; seq: number; offset: number; length: number }[];
  /** Key ids found on records that `keys` does not hold. */
  unknownKeyIds: string[];
  /** Whether signatures were checked (only when `keys` is given). */
  signaturesChecked: boolean;
}

export interface VerifyOptions {
  /** keyId -> secret. With keys, every record must carry a valid signature by one of them. */
  keys?: Record<string, string | Buffer>;
  /** A { seq, hash } kept elsewhere: the log must hold that record, unchanged. */
  anchor?: Head;
  /** A head trusted from an earlier check: verify only what follows it. With its offset, reading starts there. */
  since?: Head & { offset?: number };
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const MAX_FINDINGS = 10_000;
const NEWLINE = Buffer.from('\n');

type Scanner = (view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number) => [number, number, number, string];

// The addon's scanner, when it loads: the same checks, an order of magnitude faster than line by line.
function nativeScanner(): Scanner | undefined {
  const binding = loadBinding().binding as { scanRecords?: Scanner } | null;
  return binding?.scanRecords;
}
const HEX64 = /^[0-9a-f]{64}$/;

/** A head given as an option: { seq, hash } and, where `offset` is allowed, a byte offset. */
function checkHead(value: unknown, name: string, withOffset: boolean): (Head & { offset?: number }) | undefined {
  if (value === undefined) return undefined;
  const head = checkOptions(value, withOffset ? ['seq', 'hash', 'offset'] : ['seq', 'hash'], name);
  checkInteger(head.seq, `${name}.seq`, 1);
  if (head.seq === undefined) throw invalidArgType(`${name}.seq`, 'of type number', undefined);
  if (typeof head.hash !== 'string') throw invalidArgType(`${name}.hash`, 'of type string', head.hash);
  if (!HEX64.test(head.hash)) throw invalidArgValue(`${name}.hash`, 'must be 64 lowercase hex digits', head.hash);
  const offset = withOffset ? checkInteger(head.offset, `${name}.offset`, 0) : undefined;
  const seq = head.seq as number;
  return offset === undefined ? { seq, hash: head.hash } : { seq, hash: head.hash, offset };
}

function parseKeys(keys: unknown): Map<string, Buffer> | null {
  if (keys === undefined) return null;
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) throw invalidArgType('options.keys', 'an object of keyId -> secret', keys);
  const parsed = new Map<string, Buffer>();
  for (const [id, secret] of Object.entries(keys)) {
    if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) throw invalidArgType(`options.keys.${id}`, 'of type string or an instance of Buffer', secret);
    parsed.set(id, Buffer.from(secret));
  }
  return parsed;
}

/**
 * The lines between two records that are not records, hashed as they stream by. Only the first
 * MAX_FINDINGS lines are kept (to name them in findings); the rest are counted, so memory stays
 * bounded on any input.
 */
class NonRecordRun {
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

class Verifier {
  readonly report: VerifyReport;
  #expectedSeq: number;
  #prev: string;
  #run: NonRecordRun | null = null;
  #anchorSeen = false;
  #unknownKeys = new Set<string>();
  #lastFindingLine = 0;

  constructor(
    private readonly keys: Map<string, Buffer> | null,
    private readonly anchor: Head | undefined,
    start: (Head & { offset?: number }) | null,
  ) {
    this.#expectedSeq = (start?.seq ?? 0) + 1;
    this.#prev = start?.hash ?? GENESIS;
    const startHead = start !== null && start.offset !== undefined ? { seq: start.seq, hash: start.hash, offset: start.offset } : null;
    this.report = {
      status: 'intact',
      ok: true,
      records: 0,
      tamperedEntries: 0,
      tampered: [],
      // Verifying from a trusted head with nothing new after it keeps that head: a daily `since = head` loop keeps its place.
      head: startHead,
      tornTail: null,
      recovered: [],
      unknownKeyIds: [],
      signaturesChecked: keys !== null,
    };
  }

  /** The trusted `since` record was found while skipping: it is the head until a later record is read. */
  startAfter(head: VerifiedHead): void {
    this.report.head = head;
  }

  find(line: number, offset: number, reason: TamperReason, detail: string, seq?: number): void {
    if (line !== this.#lastFindingLine) this.report.tamperedEntries += 1;
    this.#lastFindingLine = line;
    if (this.report.tampered.length < MAX_FINDINGS) {
      this.report.tampered.push(seq === undefined ? { line, offset, reason, detail } : { line, seq, offset, reason, detail });
    }
  }

  notARecord(line: number, offset: number, bytes: Buffer, length: number, terminated: boolean, oversized: boolean): void {
    this.#run ??= new NonRecordRun(offset, { seq: this.#expectedSeq, prev: this.#prev });
    this.#run.add(line, offset, bytes, length, terminated, oversized);
  }

  record(line: number, offset: number, length: number, parsed: ParsedLine): void {
    const { seq } = parsed;
    if (parsed.type === 'recovery') this.#closeRun(line, offset, parsed);
    else this.#reportRun();

    if (!hashMatches(parsed)) this.find(line, offset, 'hash-mismatch', 'its bytes were changed after it was written', seq);
    if (seq !== this.#expectedSeq) this.find(line, offset, 'sequence-gap', `expected seq ${this.#expectedSeq}, found ${seq}`, seq);
    if (parsed.prev !== this.#prev) this.find(line, offset, 'chain-break', 'prev is not the hash of the record before it', seq);
    this.#checkSignature(line, offset, parsed);
    if (this.anchor !== undefined && seq === this.anchor.seq) {
      this.#anchorSeen = true;
      if (parsed.hash !== this.anchor.hash) this.find(line, offset, 'anchor-mismatch', `the anchor says ${this.anchor.hash}`, seq);
    }
    // Carry on from this record, so that one deletion is one finding, not a cascade.
    this.#expectedSeq = seq + 1;
    this.#prev = parsed.hash;
    this.report.records += 1;
    this.report.head = { seq, hash: parsed.hash, offset: offset + length + 1 };
  }

  /**
   * Lets the native scanner take plain data records from `view` while nothing is pending that only the
   * line-by-line path can judge (torn bytes waiting for their recovery). Returns the bytes it took.
   */
  fastForward(scan: Scanner, view: Buffer, from: number, to: number, fileOffset: number): { bytes: number; lines: number } {
    // With keys every record must be signed, and signed records are the line-by-line path's anyway.
    if (this.#run !== null || this.keys !== null) return { bytes: 0, lines: 0 };
    const stop = this.anchor !== undefined && !this.#anchorSeen ? this.anchor.seq : 0;
    const [bytes, lines, nextSeq, prev] = scan(view, from, to, this.#expectedSeq, this.#prev, stop);
    if (lines > 0) {
      this.#expectedSeq = nextSeq;
      this.#prev = prev;
      this.report.records += lines;
      this.report.head = { seq: nextSeq - 1, hash: prev, offset: fileOffset + bytes };
    }
    return { bytes, lines };
  }

  #checkSignature(line: number, offset: number, parsed: ParsedLine): void {
    if (parsed.keyId !== null && this.keys !== null && !this.keys.has(parsed.keyId)) this.#unknownKeys.add(parsed.keyId);
    if (this.keys === null) return;
    const seq = parsed.seq;
    if (parsed.keyId === null) return this.find(line, offset, 'unsigned', 'keys were given, and this record carries no signature', seq);
    const secret = this.keys.get(parsed.keyId);
    if (secret === undefined) return this.find(line, offset, 'unknown-key', `signed with key "${parsed.keyId}", which keys does not hold`, seq);
    if (!signatureMatches(parsed, secret)) this.find(line, offset, 'bad-signature', `the signature is not key "${parsed.keyId}"'s`, seq);
  }

  // A recovery record closes the run before it. Bytes a crash left are recovered; any other bytes stay
  // tampering even when a recovery record names them ('foreign-bytes'): it keeps the log writable, it
  // never makes an unauthorised write vanish from the report.
  #closeRun(line: number, offset: number, parsed: ParsedLine): void {
    const run = this.#run;
    this.#run = null;
    let recovery: RecoveryData | null = null;
    try {
      recovery = JSON.parse(parsed.dataJson) as RecoveryData;
    } catch {
      // reported below as a recovery that matches nothing
    }
    const matched = run !== null && recovery !== null && run.matches(recovery);
    if (run !== null && run.crash && matched) {
      this.report.recovered.push({ line: run.lines[0]!.line, seq: parsed.seq, offset: run.offset, length: run.length });
      return;
    }
    if (run !== null) this.#runAsTampering(run);
    if (!matched) this.find(line, offset, 'bad-recovery', 'a recovery record that does not match the bytes before it', parsed.seq);
  }

  #reportRun(): void {
    if (this.#run !== null) this.#runAsTampering(this.#run);
    this.#run = null;
  }

  #runAsTampering(run: NonRecordRun): void {
    const detail = run.crash ? 'not a record of this format' : 'not a record of this format, and not what a crash leaves';
    for (const entry of run.lines) this.find(entry.line, entry.offset, 'malformed-line', detail);
    // Lines past the first MAX_FINDINGS are counted, not kept.
    this.report.tamperedEntries += run.count - run.lines.length;
  }

  finish(lastLine: number): VerifyReport {
    const run = this.#run;
    if (run !== null) {
      // What a crash leaves, at the very end, is a crash the writer has not recovered from yet; anything else is damage.
      if (run.crash) this.report.tornTail = { offset: run.offset, length: run.length };
      else this.#runAsTampering(run);
    }
    if (this.anchor !== undefined && !this.#anchorSeen) {
      const last = this.report.head?.seq ?? 0;
      if (last < this.anchor.seq) {
        this.find(lastLine + 1, this.report.head?.offset ?? 0, 'truncated-below-anchor', `the log ends at seq ${last}, before the anchor's seq ${this.anchor.seq}`);
      } else {
        this.find(lastLine + 1, this.report.head?.offset ?? 0, 'anchor-mismatch', `no record has the anchor's seq ${this.anchor.seq}`);
      }
    }
    this.report.unknownKeyIds = [...this.#unknownKeys].slice(0, 1000);
    if (this.report.tamperedEntries > 0) {
      this.report.status = 'tampered';
      this.report.ok = false;
    }
    return this.report;
  }
}

async function endsLineAt(path: string, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const file = await open(path, 'r').catch((error: unknown) => {
    throw explainLogFailure(error, path, 'read');
  });
  try {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await file.read(byte, 0, 1, offset - 1);
    return bytesRead === 1 && byte[0] === 0x0a;
  } finally {
    await file.close();
  }
}

export async function verifyLog(path: PathLike, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { text } = toTarget(path);
  const given = checkOptions(options, ['keys', 'anchor', 'since', 'onProgress']);
  const keys = parseKeys(given.keys);
  const anchor = checkHead(given.anchor, 'options.anchor', false);
  const since = checkHead(given.since, 'options.since', true);
  const onProgress = checkFunction<(bytesRead: number, totalBytes: number) => void>(given.onProgress, 'options.onProgress');

  // With since.offset, reading starts there; without it, the records up to since.seq are skipped.
  const start = since?.offset;
  const verifier = new Verifier(keys, anchor, since ?? null);
  let lineNumber = 0;
  let skipping = since !== undefined && start === undefined;
  if (start !== undefined && !(await endsLineAt(text, start))) {
    verifier.find(1, start, 'since-mismatch', `byte ${start} is not the start of a line`);
    return verifier.finish(0);
  }
  const scan = nativeScanner();
  const skip =
    scan === undefined
      ? undefined
      : (view: Buffer, from: number, to: number, viewOffset: number): number => {
          if (skipping) return 0;
          const { bytes, lines } = verifier.fastForward(scan, view, from, to, viewOffset + from);
          lineNumber += lines;
          return bytes;
        };
  for await (const line of readLines(text, { start: start ?? 0, skip, ...(onProgress ? { onProgress } : {}) })) {
    lineNumber += 1;
    const parsed = line.terminated && !line.oversized ? parseLine(line.bytes) : null;
    if (skipping) {
      if (parsed !== null && parsed.seq === since!.seq) {
        skipping = false;
        verifier.startAfter({ seq: parsed.seq, hash: parsed.hash, offset: line.offset + line.length + 1 });
        if (parsed.hash !== since!.hash) verifier.find(lineNumber, line.offset, 'since-mismatch', `the record at seq ${since!.seq} does not have the trusted hash`, parsed.seq);
      }
      continue;
    }
    if (parsed === null) verifier.notARecord(lineNumber, line.offset, line.bytes, line.length, line.terminated, line.oversized);
    else verifier.record(lineNumber, line.offset, line.length, parsed);
  }
  if (skipping) verifier.find(lineNumber + 1, 0, 'since-mismatch', `the log holds no record with seq ${since!.seq}`);
  return verifier.finish(lineNumber);
}
