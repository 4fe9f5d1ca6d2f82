// verifyLog(): streams a log (a file, or a directory of segments) and reports every record that is not as it was written.
import { statSync } from 'node:fs';

import { nativeScanner } from '../binding';
import { type PathLike, type Target, toTarget } from '../paths';
import { checkFunction, checkInteger, checkOptions, invalidArgType, invalidArgValue } from '../validate';
import { segmentTarget } from './directory';
import { type Head, MAX_RECORD_BYTES, type ParsedLine, parseLine } from './format';
import { openLog, readLines } from './lines';
import type { VerifyOptions, VerifyReport } from './report';
import { listSegments, segmentFirstSeq } from './segments';
import { parseVerifierKeys } from '../checkpoint/note';
import { type FileScanner, type Scanner, Verifier } from './verifier';

export type { PrunedSegment, SegmentReport, TamperReason, TamperedEntry, VerifiedHead, VerifyOptions, VerifyReport } from './report';

const HEX64 = /^[0-9a-f]{64}$/;

type Since = Head & { offset?: number; segment?: string };

/** A head given as an option: { seq, hash } and, for `since`, the byte offset and segment of an earlier report. */
function checkHead(value: unknown, name: string, isSince: boolean): Since | undefined {
  if (value === undefined) return undefined;
  const head = checkOptions(value, isSince ? ['seq', 'hash', 'offset', 'segment'] : ['seq', 'hash'], name);
  checkInteger(head.seq, `${name}.seq`, 1);
  if (head.seq === undefined) throw invalidArgType(`${name}.seq`, 'of type number', undefined);
  if (typeof head.hash !== 'string') throw invalidArgType(`${name}.hash`, 'of type string', head.hash);
  if (!HEX64.test(head.hash)) throw invalidArgValue(`${name}.hash`, 'must be 64 lowercase hex digits', head.hash);
  const since: Since = { seq: head.seq as number, hash: head.hash };
  if (!isSince) return since;
  const offset = checkInteger(head.offset, `${name}.offset`, 0);
  if (offset !== undefined) since.offset = offset;
  if (head.segment !== undefined) {
    if (typeof head.segment !== 'string') throw invalidArgType(`${name}.segment`, 'of type string', head.segment);
    if (segmentFirstSeq(head.segment) === null) throw invalidArgValue(`${name}.segment`, 'must name a segment file (16 digits and .jsonl)', head.segment);
    since.segment = head.segment;
  }
  return since;
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

interface NativeScan {
  scan: Scanner;
  scanFile: FileScanner;
  close(): void;
}

/** How much of a file one native file scan takes at most: about 25 ms on two cores. */
const FILE_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * The addon's scanner, when the platform policy allows it: the same checks, an order of magnitude faster
 * than line by line. Made once per verification: the keys are handed over once, and its helper thread
 * serves every chunk of every segment until close().
 */
function openScanner(keys: Map<string, Buffer> | null): NativeScan | undefined {
  const native = nativeScanner();
  if (native === undefined) return undefined;
  const handle = native.recordScanner(keys === null ? null : [...keys]);
  return {
    scan: (view, from, to, expectedSeq, prev, stopSeq) => native.scanRecords(view, from, to, expectedSeq, prev, stopSeq, handle),
    // A bounded span per call, so that progress is reported between them.
    scanFile: (fd, offset, expectedSeq, prev, stopSeq) => native.scanFile(handle, fd, offset, offset + FILE_SCAN_BYTES, expectedSeq, prev, stopSeq),
    close: () => native.closeRecordScanner(handle),
  };
}

async function endsLineAt(path: string | Buffer, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  // Opened as the readers open a log: a FIFO or a device is refused, never read.
  const { file } = await openLog(path);
  try {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await file.read(byte, 0, 1, offset - 1);
    return bytesRead === 1 && byte[0] === 0x0a;
  } finally {
    await file.close();
  }
}

/** The record whose line ends just before `offset` (a line start), or null. */
async function recordEndingAt(path: string | Buffer, offset: number): Promise<ParsedLine | null> {
  const { file } = await openLog(path);
  try {
    const length = Math.min(offset, MAX_RECORD_BYTES + 1);
    const bytes = Buffer.alloc(length);
    const { bytesRead } = await file.read(bytes, 0, length, offset - length);
    const line = bytes.subarray(0, bytesRead - 1);
    return parseLine(line.subarray(line.lastIndexOf(0x0a) + 1));
  } finally {
    await file.close();
  }
}

/** The segment files of a directory log, or null when `target` is not a directory. */
function segmentsOf(target: Target): string[] | null {
  let isDirectory = false;
  try {
    isDirectory = statSync(target.bytes).isDirectory();
  } catch {
    return null; // readLines names the failure
  }
  return isDirectory ? listSegments(target.bytes) : null;
}

/** Verifies one file's lines, from `start`, into `verifier`; returns the last line number read. */
async function verifyFile(
  verifier: Verifier,
  target: Target,
  since: Since | undefined,
  onProgress: ((bytesRead: number, totalBytes: number) => void) | undefined,
  scanner: NativeScan | undefined,
): Promise<{ lines: number; foundSince: boolean }> {
  // With since.offset, reading starts there; without it, the records up to since.seq are skipped.
  const start = since?.offset;
  let lineNumber = 0;
  let skipping = since !== undefined && start === undefined;
  if (start !== undefined && !(await endsLineAt(target.bytes, start))) {
    verifier.find(1, start, 'since-mismatch', `byte ${start} is not the start of a line`);
    return { lines: 0, foundSince: true };
  }
  // The trusted record itself, when it is a seal, says which segment must follow.
  if (start !== undefined && start > 0) verifier.startAfter({ ...since!, offset: start }, await recordEndingAt(target.bytes, start));
  // Where the scanner keeps taking nothing (every line a finding, say every record signed by a key not
  // given), it is offered the lines less and less often: 1, 3, 7, ... up to 63 lines pass between offers.
  let declined = 0;
  let pass = 0;
  const skip =
    scanner === undefined
      ? undefined
      : (view: Buffer, from: number, to: number, viewOffset: number): number => {
          if (skipping) return 0;
          if (pass > 0) {
            pass -= 1;
            return 0;
          }
          const { bytes, lines } = verifier.fastForward(scanner.scan, view, from, to, viewOffset + from);
          lineNumber += lines;
          if (bytes > 0) declined = 0;
          else pass = 2 ** (declined = Math.min(declined + 1, 6)) - 1;
          return bytes;
        };
  const skipFile =
    scanner === undefined
      ? undefined
      : async (fd: number, offset: number): Promise<{ bytes: number; more: boolean }> => {
          const { bytes, lines, more } = await verifier.fastForwardFile(scanner.scanFile, fd, offset);
          lineNumber += lines;
          return { bytes, more };
        };
  for await (const line of readLines(target.bytes, { start: start ?? 0, skip, skipFile, ...(onProgress ? { onProgress } : {}) })) {
    lineNumber += 1;
    const parsed = line.terminated && !line.oversized ? parseLine(line.bytes) : null;
    if (skipping) {
      if (parsed !== null && parsed.seq === since!.seq) {
        skipping = false;
        verifier.startAfter({ seq: parsed.seq, hash: parsed.hash, offset: line.offset + line.length + 1 }, parsed);
        if (parsed.hash !== since!.hash) verifier.find(lineNumber, line.offset, 'since-mismatch', `the record at seq ${since!.seq} does not have the trusted hash`, parsed.seq);
      }
      continue;
    }
    if (parsed === null) verifier.notARecord(lineNumber, line.offset, line.bytes, line.length, line.terminated, line.oversized);
    else verifier.record(lineNumber, line.offset, line.length, parsed);
  }
  return { lines: lineNumber, foundSince: !skipping };
}

/**
 * Reads a log and reports every record that is not as it was written. `path` is a log file or the
 * directory of a segmented log (every segment, in chain order, as one chain).
 */
export async function verifyLog(path: PathLike, options: VerifyOptions = {}): Promise<VerifyReport> {
  const target = toTarget(path);
  const given = checkOptions(options, ['keys', 'anchor', 'since', 'onProgress', 'checkpointKeys']);
  // Checked here, so that a bad key is an argument error and not a finding on every checkpoint.
  if (given.checkpointKeys !== undefined) parseVerifierKeys(given.checkpointKeys, 'options.checkpointKeys');
  const checkpointKeys = (given.checkpointKeys as string[] | undefined) ?? null;
  const keys = parseKeys(given.keys);
  const anchor = checkHead(given.anchor, 'options.anchor', false);
  const since = checkHead(given.since, 'options.since', true);
  const onProgress = checkFunction<(bytesRead: number, totalBytes: number) => void>(given.onProgress, 'options.onProgress');

  const segments = segmentsOf(target);
  const scanner = openScanner(keys);
  try {
    if (segments === null || segments.length === 0) {
      // A segment file read on its own may begin mid-chain; a log file that does is reported.
      const name = target.text.slice(target.text.lastIndexOf('/') + 1);
      const namedFirstSeq = segmentFirstSeq(name);
      const verifier = new Verifier({ keys, anchor, start: since ?? null, midChainStart: namedFirstSeq !== null, namedFirstSeq, checkpointKeys });
      const { lines, foundSince } = await verifyFile(verifier, target, since, onProgress, scanner);
      if (!foundSince) verifier.find(lines + 1, 0, 'since-mismatch', `the log holds no record with seq ${since!.seq}`);
      return verifier.finish(lines, false);
    }
    return await verifyDirectory(target, segments, { keys, anchor, since, onProgress, checkpointKeys, scanner });
  } finally {
    scanner?.close();
  }
}

async function verifyDirectory(
  target: Target,
  segments: string[],
  options: {
    keys: Map<string, Buffer> | null;
    anchor: Head | undefined;
    since: Since | undefined;
    onProgress: ((read: number, total: number) => void) | undefined;
    checkpointKeys: string[] | null;
    scanner: NativeScan | undefined;
  },
): Promise<VerifyReport> {
  const { since, keys, anchor, checkpointKeys } = options;
  // `since` from an earlier report names its segment (or its seq tells which one holds it by the
  // names): a daily check reads only that segment and those after it.
  let first = 0;
  if (since !== undefined) {
    first = since.segment !== undefined ? segments.indexOf(since.segment) : lastIndexAtOrBefore(segments, since.seq);
    if (first === -1) {
      const verifier = new Verifier({ keys, anchor, start: since, midChainStart: false, checkpointKeys });
      verifier.find(0, 0, 'since-mismatch', `no segment of the log holds the trusted head (seq ${since.seq})`);
      return verifier.finish(0, true);
    }
  }
  const verifier = new Verifier({ keys, anchor, start: since ?? null, midChainStart: since === undefined, namedFirstSeq: segmentFirstSeq(segments[first]!), checkpointKeys });
  const present = new Set(segments);
  let lines = 0;
  let foundSince = true;
  for (const [index, name] of segments.slice(first).entries()) {
    verifier.beginSegment(name, present);
    const result = await verifyFile(verifier, segmentTarget(target, name), index === 0 ? since : undefined, options.onProgress, options.scanner);
    lines = result.lines;
    if (index === 0) foundSince = result.foundSince;
  }
  if (!foundSince) verifier.find(lines + 1, 0, 'since-mismatch', `the log holds no record with seq ${since!.seq}`);
  return verifier.finish(lines, true);
}

/** The last segment whose name's first seq is at or before `seq`: the one that holds it. */
function lastIndexAtOrBefore(segments: string[], seq: number): number {
  let found = -1;
  segments.forEach((name, index) => {
    if ((segmentFirstSeq(name) ?? Infinity) <= seq) found = index;
  });
  return found;
}
