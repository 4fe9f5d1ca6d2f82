// appendOnlyDestination: a pino destination on the main thread, one record per line pino writes.
import { EventEmitter } from 'node:events';

import { BackgroundLog } from './background-log';
import { type IntegrationLogOptions, toLogOptions } from './options';
import { LineSplitter, lineData } from './lines';

export type AppendOnlyDestinationOptions = IntegrationLogOptions;

/**
 * What pino expects of a destination (as of SonicBoom): write(line), flush(cb), flushSync() (pino calls
 * it after logger.fatal()), end(), and the events 'ready', 'error', 'finish' and 'close'. pino takes any
 * object whose `writable` is true as a stream. The log opens in the background: lines written before
 * 'ready' are held and appended, in order, once it is open.
 */
export class AppendOnlyDestination extends EventEmitter {
  readonly #log: BackgroundLog;
  readonly #lines = new LineSplitter();
  #ending = false;

  constructor(options: AppendOnlyDestinationOptions) {
    super();
    const { path, open } = toLogOptions(options);
    this.#log = new BackgroundLog(
      path,
      open,
      (error) => this.emit('error', error),
      () => this.emit('ready'),
    );
  }

  /** The log's path as given. */
  get path(): string {
    return this.#log.path;
  }

  /** True once the log is open. */
  get ready(): boolean {
    return this.#log.ready;
  }

  /** pino's test for a stream; false once end() was called. */
  get writable(): boolean {
    return !this.#ending;
  }

  /** Appends each complete line of `chunk` as one record (its JSON value, or the text when it is not JSON). */
  write(chunk: string | Buffer): boolean {
    if (this.#ending) throw Object.assign(new Error('fs-append-only: write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
    for (const line of this.#lines.push(String(chunk))) this.#log.append(lineData(line));
    return true;
  }

  /** Writes what is buffered and calls back once it is written (with 'sync': on disk). */
  flush(callback?: (error?: Error | null) => void): void {
    this.#log.flush().then(
      () => callback?.(null),
      (error: Error) => (callback ? callback(error) : this.emit('error', error)),
    );
  }

  /** Writes what is buffered before returning (and syncs with 'sync'). Throws before 'ready'. */
  flushSync(): void {
    this.#log.flushSync();
  }

  /** Appends what is left, closes the log, then emits 'finish' and 'close'. */
  end(): void {
    if (this.#ending) return;
    for (const line of this.#lines.end()) this.#log.append(lineData(line));
    this.#ending = true;
    this.#log.close().then(
      () => {
        this.emit('finish');
        this.emit('close');
      },
      (error: unknown) => {
        this.emit('error', error);
        this.emit('close');
      },
    );
  }

  /** As end(): pino and stream utilities call either. */
  destroy(): void {
    this.end();
  }
}

/** pino(appendOnlyDestination({ path, key?, protect?, durability?, rotate?, checkpoints? })) */
export function appendOnlyDestination(options: AppendOnlyDestinationOptions): AppendOnlyDestination {
  return new AppendOnlyDestination(options);
}
