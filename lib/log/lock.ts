// The cross-process lock around "read the head, write the records": flock from the addon.
// Where the addon cannot load there is no lock; the log says so once and works for one process.
import { loadBinding } from '../binding';

const WAIT = 0;
const TRY = 1;
const UNLOCK = 2;

let warned = false;

export interface FileLock {
  /** Takes the lock without waiting; false when another process holds it. */
  tryAcquire(): boolean;
  /** Waits for the lock (blocks the thread: for appendSync). */
  acquire(): void;
  release(): void;
}

export function lockFor(fd: number, path: string): FileLock {
  const { binding, error } = loadBinding();
  if (binding === null) {
    if (!warned) {
      warned = true;
      process.emitWarning(
        `fs-append-only: the native addon could not be loaded (${error.message}), so appends to ${path} take no ` +
          'cross-process lock: only one process may write a log at a time. Reinstall with a prebuilt binary or a compiler.',
        { code: 'FS_APPEND_ONLY_NO_LOCK' },
      );
    }
    return { tryAcquire: () => true, acquire: () => undefined, release: () => undefined };
  }
  return {
    tryAcquire: () => binding.lockSync(fd, TRY),
    acquire: () => void binding.lockSync(fd, WAIT),
    release: () => void binding.lockSync(fd, UNLOCK),
  };
}
