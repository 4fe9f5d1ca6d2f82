// A log opened in the background that takes appends at once: the pino destination and the winston
// transport are built synchronously, as loggers build their streams, while AppendOnlyLog.open() is async.
import { writeSync } from 'node:fs';

import { AppendOnlyLog, type OpenOptions } from '../log/index';
import type { PathLike } from '../paths';

const live = new Set<BackgroundLog>();
let exitHookInstalled = false;

// Neither pino (for a custom destination) nor winston flushes a stream at exit. The log's own hook
// writes what is buffered; this one also waits for the lock when another process holds it, and says
// what could not be written because the log never opened.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const log of live) log.writeOnExit();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class BackgroundLog {
  readonly path: string;
  /** Settles once the log is open (or has failed to open). */
  readonly opened: Promise<void>;
  #log: AppendOnlyLog | null = null;
  /** Appended before the log was open, in order. */
  #pending: unknown[] = [];
  #openFailure: unknown = null;
  #closing: Promise<void> | null = null;

  constructor(
    path: PathLike,
    options: OpenOptions,
    /** A failure nobody awaits: an append that did not reach the file, or the open itself. */
    private readonly onError: (error: unknown) => void,
    onReady: () => void,
  ) {
    this.path = String(path);
    live.add(this);
    installExitHook();
    this.opened = AppendOnlyLog.open(path, options).then(
      (log) => {
        this.#log = log;
        const pending = this.#pending.splice(0);
        for (const data of pending) this.#append(log, data);
        onReady();
      },
      (error: unknown) => {
        this.#openFailure = error;
        this.#pending = [];
        live.delete(this);
        onError(error);
      },
    );
  }

  get ready(): boolean {
    return this.#log !== null;
  }

  /** Appends without waiting; a failure goes to onError. Throws if the log failed to open. */
  append(data: unknown): void {
    if (this.#openFailure !== null) throw this.#openFailure;
    if (this.#log === null) this.#pending.push(data);
    else this.#append(this.#log, data);
  }

  /** Writes what is buffered before returning. Throws while the log is still opening. */
  flushSync(): void {
    if (this.#openFailure !== null) throw this.#openFailure;
    if (this.#log === null) {
      throw Object.assign(new Error(`fs-append-only: ${this.path} is not open yet (wait for 'ready')`), { code: 'ERR_LOG_NOT_READY' });
    }
    this.#log.flushSync();
  }

  /** Waits for the log to open, then writes what is buffered and, with 'sync', waits for the disk. */
  async flush(): Promise<void> {
    await this.opened;
    if (this.#openFailure !== null) throw this.#openFailure;
    await this.#log!.flush();
  }

  /** Writes everything appended so far, then closes the log. */
  close(): Promise<void> {
    this.#closing ??= this.opened.then(async () => {
      live.delete(this);
      if (this.#log !== null) await this.#log.close();
    });
    return this.#closing;
  }

  writeOnExit(): void {
    if (this.#log === null) {
      if (this.#pending.length > 0) {
        writeSync(2, `fs-append-only: ${this.#pending.length} log lines for ${this.path} were lost: the process exited before the log was open\n`);
      }
      return;
    }
    try {
      this.#log.flushSync();
    } catch (error) {
      writeSync(2, `fs-append-only: writing ${this.path} at exit failed: ${describe(error)}\n`);
    }
  }

  #append(log: AppendOnlyLog, data: unknown): void {
    log.append(data).catch(this.onError);
  }
}
