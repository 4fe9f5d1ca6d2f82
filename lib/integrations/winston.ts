// fs-append-only/winston: a winston transport that appends each log entry (winston's info object) as one record.
import TransportStream = require('winston-transport');

import { BackgroundLog } from './background-log';
import { type IntegrationLogOptions, toLogOptions } from './options';

export type { CheckpointOptions, IntegrationKey } from './options';

export interface AppendOnlyTransportOptions extends IntegrationLogOptions {
  /** winston's transport options. */
  level?: string;
  silent?: boolean;
  handleExceptions?: boolean;
  handleRejections?: boolean;
  format?: TransportStream.TransportStreamOptions['format'];
}

const WINSTON_OPTIONS = ['level', 'silent', 'handleExceptions', 'handleRejections', 'format'] as const;

/**
 * A copy of `value` that JSON can hold: BigInts as strings and cycles as '[Circular]', as winston's own
 * json format (safe-stable-stringify) writes them. Used only when JSON.stringify refuses an entry.
 */
function jsonSafe(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return jsonSafe(toJSON.call(value), ancestors);
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  const copy = Array.isArray(value)
    ? value.map((item) => jsonSafe(item, ancestors))
    : Object.fromEntries(Object.entries(value).map(([name, item]) => [name, jsonSafe(item, ancestors)]));
  ancestors.delete(value);
  return copy;
}

function entryData(info: unknown): unknown {
  // logger.error(new Error('x')) passes the Error itself as info; its message and stack are not
  // enumerable, and JSON would keep neither (winston's format.errors() copies them the same way).
  if (info instanceof Error) info = { ...info, message: info.message, stack: info.stack };
  try {
    JSON.stringify(info);
    return info;
  } catch {
    return jsonSafe(info, new Set());
  }
}

/**
 * new winston.transports... -> winston.createLogger({ transports: [new AppendOnlyTransport({ path })] }).
 * The record's data is the info object as JSON holds it: level, message and the metadata (winston's
 * Symbol-keyed fields are left out). The log opens in the background; entries logged before then are
 * appended in order once it is open ('ready'). logger.end() closes the log before the transport emits
 * 'finish'; a process exit writes what is buffered.
 */
export class AppendOnlyTransport extends TransportStream {
  readonly #log: BackgroundLog;

  constructor(options: AppendOnlyTransportOptions) {
    const { path, open, rest } = toLogOptions(options, WINSTON_OPTIONS);
    super(rest);
    this.#log = new BackgroundLog(
      path,
      open,
      (error) => this.emit('error', error),
      () => this.emit('ready'),
    );
  }

  /** True once the log is open. */
  get ready(): boolean {
    return this.#log.ready;
  }

  override log(info: unknown, next: () => void): void {
    try {
      this.#log.append(entryData(info));
    } catch (error) {
      // The log failed to open (reported once already through 'error'), or a JSON-proof copy was refused.
      this.emit('error', error);
    }
    setImmediate(() => this.emit('logged', info));
    next();
  }

  /** Writes what is buffered and resolves once it is written (with 'sync': on disk). */
  flush(): Promise<void> {
    return this.#log.flush();
  }

  /** Writes what is buffered before returning. Throws before 'ready'. */
  flushSync(): void {
    this.#log.flushSync();
  }

  /** Called by winston when the transport is removed: closes the log. */
  override close(): void {
    this.#log.close().catch((error: unknown) => this.emit('error', error));
  }

  // logger.end() ends every transport and waits for its 'finish': the log is closed by then.
  override _final(callback: (error?: Error | null) => void): void {
    this.#log.close().then(() => callback(null), callback);
  }
}

export default AppendOnlyTransport;
