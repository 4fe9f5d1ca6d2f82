// verifyLog(): streams a log and reports every record that is not as it was written.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

import { type PathLike, toTarget } from '../paths';
import { explainLogFailure } from './errors';
import { GENESIS, type Head, type ParsedLine, hashMatches, parseLine, signatureMatches } from './format';
import { type RecoveryData, looksTorn } from './junk';
import { readLines } from './lines';
import { loadBinding } from '../binding';

export type TamperReason =
  | 'hash-mismatch' // the record's bytes are not the ones its hash was computed over
  | 'chain-break' // its prev is not the hash of the record before it (deleted, inserted, reordered)
  | 'sequence-gap' // its seq is not one more than the record before it
  | 'malformed-line' // not a record, and not torn bytes that a recovery record closed
  | 'bad-recovery' // a recovery record that does not match the torn bytes before it
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

type Scanner = (view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number) => [number, number, number, string];

// The addon's scanner, when it loads: the same checks, an order of magnitude faster than line by line.
function nativeScanner(): Scanner | undefined {
  const binding = loadBinding().binding as { scanRecords?: Scanner } | null;
  return binding?.scanRecords;
}
const HEX64 = /^[0-9a-f]{64}$/;

function checkHead(value: unknown, name: string): void {
  const head = value as Partial<VerifiedHead> | null;
  if (head === null || typeof head !== 'object' || !Number.isSafeInteger(head.seq) || (head.seq ?? 0) < 1 || !HEX64.test(String(head.hash))) {
    throw new TypeError(`The "${name}" option must be { seq, hash } with seq >= 1 and hash 64 lowercase hex digits`);
  }
  if (head.offset !== undefined && (!Number.isSafeInteger(head.offset) || head.offset < 0)) {
    throw new TypeError(`The "${name}.offset" option must be a non-negative integer`);
  }
}

function parseKeys(keys: unknown): Map<string, Buffer> | null {
  if (keys === undefined) return null;
  if (keys === null || typeof keys !== 'object') throw new TypeError('The "keys" option must be an object of keyId -> secret');
  const parsed = new Map<string, Buffer>();
  for (const [id, secret] of Object.entries(keys)) {
    if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) throw new TypeError(`The secret of key "${id}" must be a string or a Buffer`);
    parsed.set(id, Buffer.from(secret));
  }
  return parsed;
}

/** Torn bytes since the last record, hashed as they stream by. */
class TornRun {
  readonly lines: { line: number; offset: number; torn: boolean }[] = [];
  readonly hash = createHash('sha256');
  length = 0;
  hashable = true;
  constructor(readonly offset: number) {}

  matches(recovery: RecoveryData): boolean {
    return this.hashable && recovery.offset === this.offset && recovery.length === this.length && recovery.sha256 === this.hash.copy().digest('hex');
  }
}

class Verifier {
  readonly report: VerifyReport;
  #expectedSeq: number;
  #prev: string;
  #torn: TornRun | null = null;
  #anchorSeen = false;
  #unknownKeys = new Set<string>();
  #lastFindingLine = 0;

  constructor(
    private readonly keys: Map<string, Buffer> | null,
    private readonly anchor: Head | undefined,
    start: Head | null,
  ) {
    this.#expectedSeq = (start?.seq ?? 0) + 1;
    this.#prev = start?.hash ?? GENESIS;
    this.report = {
      status: 'intact',
      ok: true,
      records: 0,
      tamperedEntries: 0,
      tampered: [],
      head: null,
      tornTail: null,
      recovered: [],
      unknownKeyIds: [],
      signaturesChecked: keys !== null,
    };
  }

  find(line: number, offset: number, reason: TamperReason, detail: string, seq?: number): void {
    if (line !== this.#lastFindingLine) this.report.tamperedEntries += 1;
    this.#lastFindingLine = line;
    if (this.report.tampered.length < MAX_FINDINGS) {
      this.report.tampered.push(seq === undefined ? { line, offset, reason, detail } : { line, seq, offset, reason, detail });
    }
  }

  notARecord(line: number, offset: number, bytes: Buffer, terminated: boolean, oversized: boolean): void {
    this.#torn ??= new TornRun(offset);
    this.#torn.lines.push({ line, offset, torn: !oversized && looksTorn(bytes) });
    if (oversized) this.#torn.hashable = false;
    else this.#torn.hash.update(bytes);
    this.#torn.length += bytes.length;
    if (terminated) {
      this.#torn.hash.update('\n');
      this.#torn.length += 1;
    }
  }

  record(line: number, offset: number, length: number, parsed: ParsedLine): void {
    const { seq } = parsed;
    if (parsed.type === 'recovery') this.#closeTorn(line, offset, parsed);
    else this.#reportTorn();

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
    if (this.#torn !== null || this.keys !== null) return { bytes: 0, lines: 0 };
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

  #closeTorn(line: number, offset: number, parsed: ParsedLine): void {
    const torn = this.#torn;
    this.#torn = null;
    let recovery: RecoveryData | null = null;
    try {
      recovery = JSON.parse(parsed.dataJson) as RecoveryData;
    } catch {
      // reported below as a recovery that matches nothing
    }
    if (torn !== null && recovery !== null && torn.matches(recovery)) {
      this.report.recovered.push({ line: torn.lines[0]!.line, seq: parsed.seq, offset: torn.offset, length: torn.length });
      return;
    }
    if (torn !== null) this.#tornAsTampering(torn);
    this.find(line, offset, 'bad-recovery', 'a recovery record that does not match the torn bytes before it', parsed.seq);
  }

  #reportTorn(): void {
    if (this.#torn !== null) this.#tornAsTampering(this.#torn);
    this.#torn = null;
  }

  #tornAsTampering(torn: TornRun): void {
    for (const entry of torn.lines) this.find(entry.line, entry.offset, 'malformed-line', 'not a record of this format');
  }

  finish(lastLine: number): VerifyReport {
    const torn = this.#torn;
    if (torn !== null) {
      // Torn pieces at the very end are a crash the writer has not recovered from yet; anything else is damage.
      if (torn.lines.every((entry) => entry.torn)) this.report.tornTail = { offset: torn.offset, length: torn.length };
      else this.#tornAsTampering(torn);
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
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be of type object');
  const keys = parseKeys(options.keys);
  if (options.anchor !== undefined) checkHead(options.anchor, 'anchor');
  const since = options.since;
  if (since !== undefined) checkHead(since, 'since');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new TypeError('The "onProgress" option must be a function');
  }

  // With since.offset, reading starts there; without it, the records up to since.seq are skipped.
  const start = since?.offset;
  const verifier = new Verifier(keys, options.anchor, since ?? null);
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
  for await (const line of readLines(text, { start: start ?? 0, onProgress: options.onProgress, skip })) {
    lineNumber += 1;
    const parsed = line.terminated && !line.oversized ? parseLine(line.bytes) : null;
    if (skipping) {
      if (parsed !== null && parsed.seq === since!.seq) {
        skipping = false;
        if (parsed.hash !== since!.hash) verifier.find(lineNumber, line.offset, 'since-mismatch', `the record at seq ${since!.seq} does not have the trusted hash`, parsed.seq);
      }
      continue;
    }
    if (parsed === null) verifier.notARecord(lineNumber, line.offset, line.bytes, line.terminated, line.oversized);
    else verifier.record(lineNumber, line.offset, line.length, parsed);
  }
  if (skipping) verifier.find(lineNumber + 1, 0, 'since-mismatch', `the log holds no record with seq ${since!.seq}`);
  return verifier.finish(lineNumber);
}
