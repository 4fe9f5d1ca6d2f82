// readLog(): the records of a log in order, streamed. It checks nothing: verifyLog() does.
import { statSync } from 'node:fs';

import { type PathLike, type Target, toTarget } from '../paths';
import { segmentTarget } from './directory';
import { listSegments, segmentFirstSeq } from './segments';
import { checkInteger, checkOptions } from '../validate';
import { type RecordType, parseLine } from './format';
import { type Line, readLines } from './lines';
import { SEEK_WINDOW_BYTES, findStart } from './seek';

export interface LogRecord {
  seq: number;
  /** When it was appended, ISO 8601 in UTC. */
  ts: string;
  /** 'data' for appended values; 'recovery' for the records that close torn bytes after a crash. */
  type: RecordType;
  /** The value as appended (after a JSON round trip). */
  data: unknown;
  hash: string;
  prev: string;
  /** The id of the key that signed it, or null. */
  keyId: string | null;
}

export interface ReadOptions {
  /** The first seq wanted (default 1). */
  from?: number;
  /** At most this many records. */
  limit?: number;
}

/**
 * The record a line holds, or null for what readers skip: an unterminated or oversized line, a line that
 * is not a record, a record whose data is not JSON. verifyLog() reports all of those.
 */
export function recordOf(line: Line): LogRecord | null {
  if (!line.terminated || line.oversized) return null;
  const parsed = parseLine(line.bytes);
  if (parsed === null) return null;
  let data: unknown;
  try {
    data = JSON.parse(parsed.dataJson);
  } catch {
    return null;
  }
  const { seq, ts, type, hash, prev, keyId } = parsed;
  return { seq, ts, type, data, hash, prev, keyId };
}

/** readLog() with the seek window as a parameter, so that tests can make a small log take many probes. */
export async function* readRecords(path: string | Buffer, from: number, limit: number, windowBytes = SEEK_WINDOW_BYTES): AsyncGenerator<LogRecord> {
  if (limit === 0) return;
  // from 1 is every record: nothing to seek.
  const locate = from > 1 ? (file: Parameters<typeof findStart>[0], size: number) => findStart(file, size, from, windowBytes) : undefined;
  let count = 0;
  for await (const line of readLines(path, { locate })) {
    const record = recordOf(line);
    if (record === null || record.seq < from) continue;
    yield record;
    count += 1;
    if (count >= limit) return;
  }
}

/**
 * Lines that are not records (torn bytes, damage) are skipped; verifyLog() reports them. With `from`, the
 * file is bisected by byte offset (seq grows with it) instead of read from the start.
 */
export function readLog(path: PathLike, options?: ReadOptions): AsyncIterable<LogRecord> {
  const target = toTarget(path);
  const checked = checkOptions(options, ['from', 'limit']);
  const from = checkInteger(checked.from, 'options.from', 1) ?? 1;
  const limit = checkInteger(checked.limit, 'options.limit', 0) ?? Number.POSITIVE_INFINITY;
  const segments = segmentsOf(target);
  return segments === null ? readRecords(target.bytes, from, limit) : readSegments(target, segments, from, limit);
}

/** The segment files of a directory log, or null when `target` is not a directory holding segments. */
function segmentsOf(target: Target): string[] | null {
  try {
    if (!statSync(target.bytes).isDirectory()) return null;
  } catch {
    return null; // opening it names the failure
  }
  const names = listSegments(target.bytes);
  return names.length > 0 ? names : null;
}

// A directory log: the segments in chain order, starting with the one whose name says it holds `from`.
async function* readSegments(dir: Target, names: string[], from: number, limit: number): AsyncGenerator<LogRecord> {
  let first = 0;
  names.forEach((name, index) => {
    if ((segmentFirstSeq(name) ?? Infinity) <= from) first = index;
  });
  let left = limit;
  for (const name of names.slice(first)) {
    if (left <= 0) return;
    for await (const record of readRecords(segmentTarget(dir, name).bytes, from, left)) {
      yield record;
      left -= 1;
    }
  }
}
