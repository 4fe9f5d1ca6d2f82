// The checks verifyLog() makes, line by line and record by record, across the segments of a directory log.
import { GENESIS, type Head, type ParsedLine, hashMatches, signatureMatches } from './format';
import type { RecoveryData } from './junk';
import { MAX_FINDINGS, NonRecordRun } from './non-record-run';
import type { PrunedSegment, SegmentReport, TamperReason, VerifiedHead, VerifyReport } from './report';
import { sealedNext } from './segments';
import { openCheckpoint } from '../checkpoint/checkpoint';
import { CompactRange } from '../checkpoint/merkle';
import { type StoredRange, storedRange } from './tree';

export type Scanner = (view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number) => [number, number, number, string];
/** The native scanner over the open file `fd` from `offset` on: [consumedBytes, lines, nextSeq, prevHex, more]. */
export type FileScanner = (fd: number, offset: number, expectedSeq: number, prev: string, stopSeq: number) => Promise<[number, number, number, string, boolean]>;

export interface VerifierOptions {
  keys: Map<string, Buffer> | null;
  anchor: Head | undefined;
  /** A trusted head to continue from (`since`), or null to start at the beginning of the chain. */
  start: VerifiedHead | (Head & { offset?: number }) | null;
  /**
   * The first record read may continue a chain begun elsewhere (a directory log, whose first segments
   * may have been pruned, or a segment file read on its own): say so rather than report a gap.
   */
  midChainStart: boolean;
  /** The first seq the first file's name promises (a segment), or null. */
  namedFirstSeq?: number | null;
  /** Verifier keys of checkpoint notes: check every checkpoint record against the tree of the records before it. */
  checkpointKeys: string[] | null;
}

export class Verifier {
  readonly report: VerifyReport;
  readonly #keys: Map<string, Buffer> | null;
  readonly #anchor: Head | undefined;
  #expectedSeq: number;
  #prev: string;
  #run: NonRecordRun | null = null;
  #anchorSeen = false;
  #anchorAgainstStart = false;
  readonly #namedFirstSeq: number | null;
  #unknownKeys = new Set<string>();
  #lastFindingLine = '';
  #midChainStart: boolean;
  /** The segment being read (directory logs), and what its seal said. */
  #segment: SegmentReport | null = null;
  #segmentIndex = 0;
  #sealNext: string | null | undefined = undefined;
  #sealedAt: number | null = null;
  readonly #checkpointKeys: string[] | null;
  /** The tree of the records read, when checkpoints are checked; null until known (a log read from its middle). */
  #tree: CompactRange | null = null;

  constructor(options: VerifierOptions) {
    this.#keys = options.keys;
    this.#anchor = options.anchor;
    this.#midChainStart = options.midChainStart && options.start === null;
    this.#checkpointKeys = options.checkpointKeys;
    this.#namedFirstSeq = options.namedFirstSeq ?? null;
    // From the start of the chain the tree starts empty; from a trusted head it is learnt from the first checkpoint.
    if (options.checkpointKeys !== null && options.start === null) this.#tree = new CompactRange();
    const start = options.start;
    this.#expectedSeq = (start?.seq ?? 0) + 1;
    this.#prev = start?.hash ?? GENESIS;
    const startHead = start !== null && start.offset !== undefined ? { ...start, offset: start.offset } : null;
    // Records up to a trusted `since` are not read: an anchor among them is the caller's to have checked
    // when that head was trusted, except the head itself, whose hash is known.
    if (start !== null && this.#anchor !== undefined && this.#anchor.seq <= start.seq) {
      this.#anchorSeen = true;
      this.#anchorAgainstStart = this.#anchor.seq === start.seq && this.#anchor.hash !== start.hash;
    }
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
      signaturesChecked: options.keys !== null,
      segments: [],
      startsMidChain: null,
      pruned: [],
      checkpoint: null,
    };
  }

  /**
   * The trusted `since` record (found while skipping, or read just before its offset): it is the head
   * until a later record is read, and when it is a seal the segment after it must be the one it names.
   */
  startAfter(head: VerifiedHead, parsed: ParsedLine | null): void {
    this.report.head = this.#withSegment(head);
    if (parsed?.type === 'seal' && parsed.hash === head.hash) {
      this.#sealNext = sealedNext(parsed);
      this.#sealedAt = 0;
      if (this.#segment !== null) this.#segment.sealed = true;
    }
  }

  /**
   * A directory log's next segment begins. The one before must have ended with a seal naming it; a
   * seal naming a file that is absent means a segment is missing.
   */
  beginSegment(name: string, present: ReadonlySet<string>): void {
    this.#endRun();
    const previous = this.#segment;
    if (previous !== null && this.#sealNext !== undefined) {
      const where = { file: previous.file, line: this.#sealedAt ?? 0 };
      if (this.#sealNext === null) {
        this.find(where.line, 0, 'seal-mismatch', `the seal record of ${previous.file} ends the log, yet ${name} follows it`, undefined, where.file);
      } else if (this.#sealNext !== name) {
        const absent = !present.has(this.#sealNext);
        this.find(
          where.line,
          0,
          absent ? 'missing-segment' : 'seal-mismatch',
          absent ? `the seal record of ${previous.file} names ${this.#sealNext}, which is missing` : `the seal record of ${previous.file} names ${this.#sealNext}, not ${name}`,
          undefined,
          where.file,
        );
      }
    } else if (previous !== null) {
      this.find(0, 0, 'unsealed-segment', `${previous.file} is followed by ${name} but ends without a seal record`, undefined, previous.file);
    }
    this.#segment = { file: name, firstSeq: null, lastSeq: null, records: 0, sealed: false };
    this.#segmentIndex += 1;
    this.#sealNext = undefined;
    this.#sealedAt = null;
    this.report.segments.push(this.#segment);
  }

  find(line: number, offset: number, reason: TamperReason, detail: string, seq?: number, file = this.#segment?.file): void {
    const key = `${file ?? ''}:${line}`;
    if (key !== this.#lastFindingLine) this.report.tamperedEntries += 1;
    this.#lastFindingLine = key;
    if (this.report.tampered.length >= MAX_FINDINGS) return;
    const entry = file === undefined ? { line, offset, reason, detail } : { file, line, offset, reason, detail };
    this.report.tampered.push(seq === undefined ? entry : { ...entry, seq });
  }

  notARecord(line: number, offset: number, bytes: Buffer, length: number, terminated: boolean, oversized: boolean): void {
    this.#run ??= new NonRecordRun(offset, { seq: this.#expectedSeq, prev: this.#prev });
    this.#run.add(line, offset, bytes, length, terminated, oversized);
  }

  record(line: number, offset: number, length: number, parsed: ParsedLine): void {
    const { seq } = parsed;
    if (parsed.type === 'recovery') this.#closeRun(line, offset, parsed);
    else this.#endRun();
    this.#acceptMidChainStart(parsed);

    if (!hashMatches(parsed)) this.find(line, offset, 'hash-mismatch', 'its bytes were changed after it was written', seq);
    if (seq !== this.#expectedSeq) this.find(line, offset, 'sequence-gap', `expected seq ${this.#expectedSeq}, found ${seq}`, seq);
    if (parsed.prev !== this.#prev) this.find(line, offset, 'chain-break', 'prev is not the hash of the record before it', seq);
    if (this.#sealedAt !== null) this.find(line, offset, 'after-seal', `a record after the seal record on line ${this.#sealedAt}`, seq);
    this.#checkSignature(line, offset, parsed);
    if (this.#anchor !== undefined && seq === this.#anchor.seq) {
      this.#anchorSeen = true;
      if (parsed.hash !== this.#anchor.hash) this.find(line, offset, 'anchor-mismatch', `the anchor says ${this.#anchor.hash}`, seq);
    }
    if (parsed.type === 'seal') {
      this.#sealNext = sealedNext(parsed);
      this.#sealedAt = line;
      if (this.#segment !== null) this.#segment.sealed = true;
    } else if (parsed.type === 'prune') {
      this.#notePrune(parsed);
    } else if (parsed.type === 'checkpoint' && this.#checkpointKeys !== null) {
      this.#checkCheckpoint(line, offset, parsed);
    }
    this.#tree?.appendRecordHash(parsed.hash);
    // Carry on from this record, so that one deletion is one finding, not a cascade.
    this.#advance(seq, parsed.hash, 1, offset + length + 1);
  }

  /**
   * Lets the native scanner take data records from `view` while nothing is pending that only the
   * line-by-line path can judge (bytes waiting for their recovery, the first record of a chain begun
   * elsewhere, a seal already read, checkpoints to check). The scanner holds this verification's keys:
   * it takes only records that record() would find nothing wrong with. Returns the bytes it took.
   */
  fastForward(scan: Scanner, view: Buffer, from: number, to: number, fileOffset: number): { bytes: number; lines: number } {
    if (!this.#canFastForward()) return { bytes: 0, lines: 0 };
    const [bytes, lines, nextSeq, prev] = scan(view, from, to, this.#expectedSeq, this.#prev, this.#stopSeq());
    if (lines > 0) this.#advance(nextSeq - 1, prev, lines, fileOffset + bytes);
    return { bytes, lines };
  }

  /** The same over the file from `offset` (a line start) on, read by the scanner itself. */
  async fastForwardFile(scan: FileScanner, fd: number, offset: number): Promise<{ bytes: number; lines: number; more: boolean }> {
    if (!this.#canFastForward()) return { bytes: 0, lines: 0, more: false };
    const [bytes, lines, nextSeq, prev, more] = await scan(fd, offset, this.#expectedSeq, this.#prev, this.#stopSeq());
    if (lines > 0) this.#advance(nextSeq - 1, prev, lines, offset + bytes);
    return { bytes, lines, more };
  }

  #canFastForward(): boolean {
    return this.#run === null && this.#checkpointKeys === null && !this.#midChainStart && this.#sealedAt === null;
  }

  /** The seq the scanner must stop before: the anchor's, until it is seen. */
  #stopSeq(): number {
    return this.#anchor !== undefined && !this.#anchorSeen ? this.#anchor.seq : 0;
  }

  finish(lastLine: number, directory: boolean): VerifyReport {
    const run = this.#run;
    if (run !== null) {
      // What a crash leaves, at the very end, is a crash the writer has not recovered from yet; anything else is damage.
      if (run.crash) this.report.tornTail = this.#withSegment({ offset: run.offset, length: run.length });
      else this.#runAsTampering(run);
    }
    if (this.#anchor !== undefined && !this.#anchorSeen) {
      const last = this.report.head?.seq ?? 0;
      const offset = this.report.head?.offset ?? 0;
      if (last < this.#anchor.seq) {
        this.find(lastLine + 1, offset, 'truncated-below-anchor', `the log ends at seq ${last}, before the anchor's seq ${this.#anchor.seq}`);
      } else {
        this.find(lastLine + 1, offset, 'anchor-mismatch', `no record has the anchor's seq ${this.#anchor.seq}`);
      }
    }
    if (this.#anchorAgainstStart) {
      this.find(0, 0, 'anchor-mismatch', `the anchor says ${this.#anchor!.hash} for seq ${this.#anchor!.seq}, and the trusted since head says otherwise`);
    }
    if (directory) this.#checkFront();
    this.report.unknownKeyIds = [...this.#unknownKeys].slice(0, 1000);
    if (this.report.tamperedEntries > 0) {
      this.report.status = 'tampered';
      this.report.ok = false;
    }
    return this.report;
  }

  #advance(seq: number, hash: string, records: number, end: number): void {
    this.#expectedSeq = seq + 1;
    this.#prev = hash;
    this.report.records += records;
    this.report.head = this.#withSegment({ seq, hash, offset: end });
    const segment = this.#segment;
    if (segment !== null) {
      segment.firstSeq ??= seq - records + 1;
      segment.lastSeq = seq;
      segment.records += records;
    }
  }

  #withSegment<T extends object>(value: T): T & { segment?: string } {
    return this.#segment === null ? value : { ...value, segment: this.#segment.file };
  }

  // The first record of a chain begun elsewhere: continue from it, and judge the start at the end
  // (a prune record later in the log may account for what came before).
  #acceptMidChainStart(parsed: ParsedLine): void {
    if (!this.#midChainStart) return;
    this.#midChainStart = false;
    if (parsed.seq === 1 && parsed.prev === GENESIS) return;
    // A segment's name says which seq it starts with: one whose first records were cut is reported.
    if (this.#namedFirstSeq !== null && parsed.seq !== this.#namedFirstSeq) return;
    this.report.startsMidChain = { seq: parsed.seq, prev: parsed.prev };
    this.#tree = null;
    this.#expectedSeq = parsed.seq;
    this.#prev = parsed.prev;
  }

  // A checkpoint record: its note must be signed by one of checkpointKeys, and name the tree of the
  // records before it. Where the verifier started mid-chain, the first good checkpoint's stored range,
  // if its root is the one signed, tells the tree from there on.
  #checkCheckpoint(line: number, offset: number, parsed: ParsedLine): void {
    const bad = (detail: string): void => this.find(line, offset, 'bad-checkpoint', detail, parsed.seq);
    let note: string | undefined;
    let stored: StoredRange | null = null;
    try {
      const data = JSON.parse(parsed.dataJson) as { note?: unknown };
      if (typeof data.note === 'string') note = data.note;
      stored = storedRange(parsed.dataJson);
    } catch {
      // reported below
    }
    if (note === undefined) return bad('a checkpoint record that holds no note');
    let opened;
    try {
      opened = openCheckpoint(note, this.#checkpointKeys!);
    } catch (error) {
      return bad(`its note does not verify: ${(error as Error).message}`);
    }
    const root = opened.root.toString('base64');
    if (this.#tree === null) {
      const range = stored === null ? null : CompactRange.from(stored.size, stored.hashes);
      if (range === null || range.size !== opened.size || range.root().toString('base64') !== root) {
        return bad('the tree it stores is not the one its note signs');
      }
      this.#tree = range;
    } else if (opened.size !== this.#tree.size) {
      return bad(`its note says ${opened.size} records, and ${this.#tree.size} come before it`);
    } else if (this.#tree.root().toString('base64') !== root) {
      return bad('its note signs another tree than the records before it form');
    }
    this.report.checkpoint = { seq: parsed.seq, size: opened.size, root, note };
  }

  #notePrune(parsed: ParsedLine): void {
    try {
      const data = JSON.parse(parsed.dataJson) as { segments?: PrunedSegment[] };
      for (const segment of data.segments ?? []) this.report.pruned.push(segment);
    } catch {
      // a prune record that says nothing accounts for nothing
    }
  }

  // A directory log that starts mid-chain must have had its first segments pruned, and the prune
  // records must name them, up to the record just before the first one left.
  #checkFront(): void {
    const start = this.report.startsMidChain;
    if (start === null) return;
    const last = this.report.pruned.find((segment) => segment.lastSeq === start.seq - 1);
    if (last !== undefined && last.lastHash === start.prev) return;
    const first = this.report.segments[0]?.file;
    this.find(0, 0, 'missing-segment', `the log starts at seq ${start.seq}, and no prune record accounts for the records before it`, undefined, first);
  }

  #checkSignature(line: number, offset: number, parsed: ParsedLine): void {
    const keys = this.#keys;
    if (parsed.keyId !== null && keys !== null && !keys.has(parsed.keyId)) this.#unknownKeys.add(parsed.keyId);
    if (keys === null) return;
    const seq = parsed.seq;
    if (parsed.keyId === null) return this.find(line, offset, 'unsigned', 'keys were given, and this record carries no signature', seq);
    const secret = keys.get(parsed.keyId);
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
      this.report.recovered.push(this.#withSegment({ line: run.lines[0]!.line, seq: parsed.seq, offset: run.offset, length: run.length }));
      return;
    }
    if (run !== null) this.#runAsTampering(run);
    if (!matched) this.find(line, offset, 'bad-recovery', 'a recovery record that does not match the bytes before it', parsed.seq);
  }

  #endRun(): void {
    if (this.#run !== null) this.#runAsTampering(this.#run);
    this.#run = null;
  }

  #runAsTampering(run: NonRecordRun): void {
    const detail = run.crash ? 'not a record of this format' : 'not a record of this format, and not what a crash leaves';
    for (const entry of run.lines) this.find(entry.line, entry.offset, 'malformed-line', detail);
    // Lines past the first MAX_FINDINGS are counted, not kept.
    this.report.tamperedEntries += run.count - run.lines.length;
  }
}
