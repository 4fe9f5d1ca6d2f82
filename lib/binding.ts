// Loads the native addon once, on first use, and types it: the only file that knows the addon exists.
import path from 'node:path';
import nodeGypBuild from 'node-gyp-build';

import { AppendOnlyError } from './errors';

export interface FlagState {
  /** The platform's own flag word: FS_IOC_GETFLAGS on Linux, st_flags on BSD. */
  flags: number;
  appendOnly: boolean;
  immutable: boolean;
  /** false when the filesystem keeps no such flags (the others are then false and 0). */
  supported: boolean;
}

/** A path as the addon takes it: a string, or a Buffer of its bytes. */
export type NativePath = string | Buffer;

export interface NativeBinding {
  readFlags(path: NativePath): Promise<FlagState>;
  readFlagsSync(path: NativePath): FlagState;
  /** The append-only (1) and immutable (2) bits only, for the calls that need no more. */
  readStateSync(path: NativePath): number;
  changeFlags(path: NativePath, mask: number, on: boolean, systemFlags: boolean): Promise<FlagState>;
  /** Throws on failure; the flags were read back and found as asked. */
  changeFlagsSync(path: NativePath, mask: number, on: boolean, systemFlags: boolean): void;
  filesystemName(path: NativePath): Promise<string>;
  filesystemNameSync(path: NativePath): string;
  /**
   * The log's cross-process lock on an fd (flock(2); LockFileEx on Windows): mode 0 waits for an
   * exclusive lock, 1 tries (false when held elsewhere), 2 unlocks.
   */
  lockSync(fd: number, mode: 0 | 1 | 2): boolean;
  /** The verifier's fast path (src/scan.h). */
  scanRecords(view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number): [number, number, number, string];
  readonly method: 'ioctl' | 'chflags' | 'none';
  /** How lockSync locks; 'none' where it throws ENOTSUP. */
  readonly lockMethod: 'flock' | 'LockFileEx' | 'none';
  readonly APPEND_ONLY: number;
  readonly IMMUTABLE: number;
}

export type LoadResult = { binding: NativeBinding; error: null } | { binding: null; error: Error };

let loaded: LoadResult | undefined;

/** Never throws: importing the package must work where the addon cannot load (the log does). */
export function loadBinding(): LoadResult {
  if (loaded === undefined) {
    try {
      loaded = { binding: nodeGypBuild(path.join(__dirname, '..')) as NativeBinding, error: null };
    } catch (error) {
      loaded = { binding: null, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  return loaded;
}

export function addonUnavailableFix(): string {
  return (
    'Reinstall the package where a prebuilt binary exists for this platform, or with a C++ compiler, ' +
    'make and python3 present (npm rebuild fs-append-only)'
  );
}

/** The addon, or an AppendOnlyError ERR_ADDON_UNAVAILABLE naming why it could not be loaded. */
export function requireBinding(): NativeBinding {
  if (loaded?.binding) return loaded.binding;
  const result = loadBinding();
  if (result.binding !== null) return result.binding;
  const fix = addonUnavailableFix();
  throw new AppendOnlyError(`ERR_ADDON_UNAVAILABLE: the native addon could not be loaded (${result.error.message}). ${fix}.`, {
    code: 'ERR_ADDON_UNAVAILABLE',
    fix,
    cause: result.error,
  });
}

/** What this platform and this build can do: decided here once, read by everything else. */
export interface PlatformCapabilities {
  /** The append-only and immutable flags can be read and changed (protectAppendOnly, ...). */
  flags: boolean;
  /** The log can take a cross-process lock around its appends. */
  lock: boolean;
  /** The verifier can use the addon's scanner. */
  nativeScan: boolean;
  /** Why the addon could not be loaded; null when it was. */
  addonError: Error | null;
}

export function platformCapabilities(): PlatformCapabilities {
  const { binding, error } = loadBinding();
  if (binding === null) return { flags: false, lock: false, nativeScan: false, addonError: error };
  return {
    flags: binding.method !== 'none',
    lock: binding.lockMethod !== 'none',
    nativeScan: typeof binding.scanRecords === 'function',
    addonError: null,
  };
}
