// The cross-process lock around "read the head, write the records", from the addon where the
// platform has one (platformCapabilities). Elsewhere the log says so once and works for one process.
import { loadBinding, platformCapabilities } from '../binding';

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

const NO_LOCK: FileLock = { tryAcquire: () => true, acquire: () => undefined, release: () => undefined };

export function lockFor(fd: number, path: string): FileLock {
  const capabilities = platformCapabilities();
  const { binding } = loadBinding();
  if (!capabilities.lock || binding === null) {
    if (!warned) {
      warned = true;
      const why =
        capabilities.addonError !== null
          ? `the native addon could not be loaded (${capabilities.addonError.message})`
          : `the native addon has no file lock on this platform (${process.platform})`;
      const fix = capabilities.addonError !== null ? ' Reinstall with a prebuilt binary or a compiler.' : '';
      process.emitWarning(
        `fs-append-only: ${why}, so appends to ${path} take no cross-process lock: only one process may write a log at a time.${fix}`,
        { code: 'FS_APPEND_ONLY_NO_LOCK' },
      );
    }
    return NO_LOCK;
  }
  return {
    tryAcquire: () => binding.lockSync(fd, TRY),
    acquire: () => void binding.lockSync(fd, WAIT),
    release: () => void binding.lockSync(fd, UNLOCK),
  };
}
