// readLog(): the records of a log in order, streamed. It checks nothing: verifyLog() does.
import { type PathLike, toTarget } from '../paths';
import { type RecordType, parseLine } from './format';
import { readLines } from './lines';

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

function positiveInteger(value: unknown, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new TypeError(`The "${name}" option must be an integer >= ${minimum}`);
  }
  return value;
}

/** Lines that are not records (torn bytes, damage) are skipped; verifyLog() reports them. */
export function readLog(path: PathLike, options: ReadOptions = {}): AsyncIterable<LogRecord> {
  const { text } = toTarget(path);
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be of type object');
  const from = positiveInteger(options.from, 'from', 1) ?? 1;
  const limit = positiveInteger(options.limit, 'limit', 0) ?? Number.POSITIVE_INFINITY;
  return (async function* records(): AsyncGenerator<LogRecord> {
    if (limit === 0) return;
    let count = 0;
    for await (const line of readLines(text)) {
      if (!line.terminated || line.oversized) continue;
      const parsed = parseLine(line.bytes);
      if (parsed === null || parsed.seq < from) continue;
      let data: unknown;
      try {
        data = JSON.parse(parsed.dataJson);
      } catch {
        continue;
      }
      const { seq, ts, type, hash, prev, keyId } = parsed;
      yield { seq, ts, type, data, hash, prev, keyId };
      count += 1;
      if (count >= limit) return;
    }
  })();
}
