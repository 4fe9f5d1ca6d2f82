// protect / unprotect / isAppendOnly / immutable flags and getFileAttributes, each in a promise and a sync form.
import { fstatSync, lstatSync } from 'node:fs';
import { constants } from 'node:os';

import { UNSUPPORTED_PLATFORM_FIX, sentence, unsupportedPlatform } from './advice';
import { type FileState, type NativeBinding, platformCapabilities, requireBinding } from '../binding';
import { AppendOnlyError } from '../errors';
import { explainFailure } from './explain';
import { type PathLike, type Target, toTarget } from '../paths';
import { checkBoolean, checkInteger, checkOptions, invalidArgType } from '../validate';

export interface ProtectOptions {
  /** Throw ENOTSUP on a platform without the attribute instead of warning and returning false. */
  strict?: boolean;
  /** macOS/FreeBSD: set SF_APPEND / SF_IMMUTABLE (root only) instead of UF_*. Ignored on Linux. */
  system?: boolean;
}

export interface FileAttributes {
  appendOnly: boolean;
  immutable: boolean;
  /** The platform's raw flag word (FS_IOC_GETFLAGS, or st_flags); 0 where the filesystem keeps none. */
  flags: number;
  /** The filesystem holding the file: 'ext4', 'tmpfs', 'apfs', ... ('unknown' where it cannot be told). */
  filesystem: string;
}

// Mirrors the addon's constants, so that a platform without the addon still has the values.
const APPEND_ONLY = 1;
const IMMUTABLE = 2;

interface Options {
  strict: boolean;
  system: boolean;
}

function toOptions(options: unknown): Options {
  const given = checkOptions(options, ['strict', 'system']);
  return {
    strict: checkBoolean(given.strict, 'options.strict') ?? false,
    system: checkBoolean(given.system, 'options.system') ?? false,
  };
}

// ---- Platforms with no such attribute (Windows, ...) ----

let warned = false;

/** Still reports a missing file, as everywhere else; the flags themselves cannot exist here. */
function assertExists(target: Target): void {
  try {
    lstatSync(target.bytes);
  } catch (error) {
    throw explainFailure(error, target);
  }
}

function unsupportedPlatformError(target: Target): AppendOnlyError {
  const cause = unsupportedPlatform(process.platform);
  return new AppendOnlyError(`ENOTSUP: operation not supported, chattr '${target.text}'. ${sentence(cause, UNSUPPORTED_PLATFORM_FIX)}`, {
    code: 'ENOTSUP',
    errno: -constants.errno.ENOTSUP,
    syscall: 'chattr',
    path: target.text,
    fix: UNSUPPORTED_PLATFORM_FIX,
  });
}

/**
 * Setting a flag where none exists: one warning per process and false, so code written for Linux keeps
 * running elsewhere, unprotected and told so; { strict: true } makes it an error instead.
 */
function changeWithoutSupport(target: Target, options: Options, on: boolean, exists: () => void = () => assertExists(target)): boolean {
  exists();
  if (!on) return true; // nothing can be set, so it is clear
  if (options.strict) throw unsupportedPlatformError(target);
  if (!warned) {
    warned = true;
    process.emitWarning(`${sentence(unsupportedPlatform(process.platform), UNSUPPORTED_PLATFORM_FIX)}`, {
      code: 'FS_APPEND_ONLY_UNSUPPORTED',
    });
  }
  return false;
}

const NO_FLAGS: FileState = { flags: 0, appendOnly: false, immutable: false, supported: false, filesystem: 'unknown' };

// ---- The two shapes every call takes ----

// Every call takes one of two shapes: where the platform has no flags (platformCapabilities), `without`
// answers; elsewhere the addon does, and its errors are explained. An unavailable addon throws
// ERR_ADDON_UNAVAILABLE as it is.
const platformHasFlags = (): boolean => platformCapabilities().flagMethod !== 'none';

function withAddonSync<T>(target: Target, without: () => T, run: (binding: NativeBinding) => T): T {
  if (!platformHasFlags()) return without();
  const binding = requireBinding();
  try {
    return run(binding);
  } catch (error) {
    throw explainFailure(error, target);
  }
}

async function withAddon<T>(target: Target, without: () => T, run: (binding: NativeBinding) => Promise<T>): Promise<T> {
  if (!platformHasFlags()) return without();
  const binding = requireBinding();
  try {
    return await run(binding);
  } catch (error) {
    throw explainFailure(error, target);
  }
}

/** Where the platform has no flags, a missing file is still ENOENT and an existing one has none. */
function noFlags(target: Target): FileState {
  assertExists(target);
  return NO_FLAGS;
}

// The addon reads the flags back after a change and fails if it did not stick: success means done.
function changeSync(path: PathLike, options: ProtectOptions | undefined, mask: number, on: boolean): boolean {
  const target = toTarget(path);
  const parsed = toOptions(options);
  return withAddonSync(
    target,
    () => changeWithoutSupport(target, parsed, on),
    (binding) => {
      binding.changeFlagsSync(target.bytes, mask, on, parsed.system);
      return true;
    },
  );
}

async function change(path: PathLike, options: ProtectOptions | undefined, mask: number, on: boolean): Promise<boolean> {
  const target = toTarget(path);
  const parsed = toOptions(options);
  return withAddon(
    target,
    () => changeWithoutSupport(target, parsed, on),
    async (binding) => {
      await binding.changeFlags(target.bytes, mask, on, parsed.system);
      return true;
    },
  );
}

const readSync = (target: Target): FileState => withAddonSync(target, () => noFlags(target), (binding) => binding.readAttributesSync(target.bytes));
const read = (target: Target): Promise<FileState> => withAddon(target, () => noFlags(target), (binding) => binding.readAttributes(target.bytes));

function toAttributes(state: FileState): FileAttributes {
  return { appendOnly: state.appendOnly, immutable: state.immutable, flags: state.flags, filesystem: state.filesystem };
}

// ---- Public API ----

/** Sets the append-only flag. true when the file is append-only afterwards (already set is fine). */
export function protectAppendOnlySync(path: PathLike, options?: ProtectOptions): boolean {
  return changeSync(path, options, APPEND_ONLY, true);
}
export function protectAppendOnly(path: PathLike, options?: ProtectOptions): Promise<boolean> {
  return change(path, options, APPEND_ONLY, true);
}

/** Clears the append-only flag. true when it is clear afterwards. */
export function unprotectAppendOnlySync(path: PathLike, options?: ProtectOptions): boolean {
  return changeSync(path, options, APPEND_ONLY, false);
}
export function unprotectAppendOnly(path: PathLike, options?: ProtectOptions): Promise<boolean> {
  return change(path, options, APPEND_ONLY, false);
}

/** Sets the immutable flag: no write at all, not even an append. */
export function setImmutableSync(path: PathLike, options?: ProtectOptions): boolean {
  return changeSync(path, options, IMMUTABLE, true);
}
export function setImmutable(path: PathLike, options?: ProtectOptions): Promise<boolean> {
  return change(path, options, IMMUTABLE, true);
}

export function clearImmutableSync(path: PathLike, options?: ProtectOptions): boolean {
  return changeSync(path, options, IMMUTABLE, false);
}
export function clearImmutable(path: PathLike, options?: ProtectOptions): Promise<boolean> {
  return change(path, options, IMMUTABLE, false);
}

// The state bits the addon's readStateSync returns.
const STATE_APPEND_ONLY = 1;
const STATE_IMMUTABLE = 2;

function stateSync(path: PathLike): number {
  const target = toTarget(path);
  return withAddonSync(
    target,
    () => {
      assertExists(target);
      return 0;
    },
    (binding) => binding.readStateSync(target.bytes),
  );
}

/** false also where the filesystem or the platform keeps no such flag. */
export function isAppendOnlySync(path: PathLike): boolean {
  return (stateSync(path) & STATE_APPEND_ONLY) !== 0;
}
export async function isAppendOnly(path: PathLike): Promise<boolean> {
  return (await read(toTarget(path))).appendOnly;
}

export function isImmutableSync(path: PathLike): boolean {
  return (stateSync(path) & STATE_IMMUTABLE) !== 0;
}
export async function isImmutable(path: PathLike): Promise<boolean> {
  return (await read(toTarget(path))).immutable;
}

export function getFileAttributesSync(path: PathLike): FileAttributes {
  return toAttributes(readSync(toTarget(path)));
}
export async function getFileAttributes(path: PathLike): Promise<FileAttributes> {
  return toAttributes(await read(toTarget(path)));
}

// ---- On a file held open ----

export interface ProtectFileDescriptorOptions {
  /** Throw ENOTSUP on a platform without the attribute instead of warning and returning false. */
  strict?: boolean;
  /** Set the immutable flag instead of the append-only one. */
  immutable?: boolean;
  /** macOS/FreeBSD: SF_* (root only) instead of UF_*. Ignored on Linux. */
  system?: boolean;
}

/**
 * Sets the append-only (or immutable) flag on the file `fd` holds open, so it lands on that very file
 * even if its path has been renamed or replaced since it was opened; `path` only names it in errors.
 * Returns true when the flag is set afterwards, false (after one process warning) on a platform
 * without the attribute unless `strict`. Errors are explained like the path calls' (EPERM names the
 * missing capability and how to grant it).
 */
export function protectFileDescriptorSync(fd: number, path: PathLike, options?: ProtectFileDescriptorOptions): boolean {
  if (typeof fd !== 'number') throw invalidArgType('fd', 'of type number', fd);
  checkInteger(fd, 'fd', 0);
  const target = toTarget(path);
  const given = checkOptions(options, ['strict', 'immutable', 'system']);
  const parsed: Options = {
    strict: checkBoolean(given.strict, 'options.strict') ?? false,
    system: checkBoolean(given.system, 'options.system') ?? false,
  };
  const mask = checkBoolean(given.immutable, 'options.immutable') === true ? IMMUTABLE : APPEND_ONLY;
  return withAddonSync(
    target,
    () =>
      changeWithoutSupport(target, parsed, true, () => {
        try {
          fstatSync(fd);
        } catch (error) {
          throw explainFailure(error, target);
        }
      }),
    (binding) => {
      binding.changeFlagsFdSync(fd, mask, true, parsed.system);
      return true;
    },
  );
}
