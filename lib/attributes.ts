// protect / unprotect / isAppendOnly / immutable flags and getFileAttributes, each in a promise and a sync form.
import { lstatSync } from 'node:fs';
import { constants } from 'node:os';

import { UNSUPPORTED_PLATFORM_FIX, sentence, unsupportedPlatform } from './advice';
import { type FlagState, type NativeBinding, requireBinding } from './binding';
import { AppendOnlyError } from './errors';
import { explainFailure } from './explain';
import { type PathLike, type Target, toTarget } from './paths';
import { flagMethod } from './probe';

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
  if (options === undefined) return { strict: false, system: false };
  if (options === null || typeof options !== 'object') {
    throw Object.assign(new TypeError('The "options" argument must be of type object'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const { strict = false, system = false } = options as Record<string, unknown>;
  for (const [name, value] of Object.entries({ strict, system })) {
    if (typeof value !== 'boolean') {
      throw Object.assign(new TypeError(`The "options.${name}" property must be of type boolean`), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
  }
  return { strict: strict as boolean, system: system as boolean };
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

/** Setting a flag where none exists: one warning per process and false, as the Python original does. */
function changeWithoutSupport(target: Target, options: Options, on: boolean): boolean {
  assertExists(target);
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

const NO_FLAGS: FlagState = { flags: 0, appendOnly: false, immutable: false, supported: false };

// ---- The two shapes every call takes ----

// Every call takes one of two shapes: where the platform has no flags, `without` answers; elsewhere the
// addon does, and its errors are explained. An unavailable addon throws ERR_ADDON_UNAVAILABLE as it is.
function withAddonSync<T>(target: Target, without: () => T, run: (binding: NativeBinding) => T): T {
  if (flagMethod() === 'none') return without();
  const binding = requireBinding();
  try {
    return run(binding);
  } catch (error) {
    throw explainFailure(error, target);
  }
}

async function withAddon<T>(target: Target, without: () => T, run: (binding: NativeBinding) => Promise<T>): Promise<T> {
  if (flagMethod() === 'none') return without();
  const binding = requireBinding();
  try {
    return await run(binding);
  } catch (error) {
    throw explainFailure(error, target);
  }
}

/** Where the platform has no flags, a missing file is still ENOENT and an existing one has none. */
function noFlags(target: Target): FlagState {
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

const readSync = (target: Target): FlagState => withAddonSync(target, () => noFlags(target), (binding) => binding.readFlagsSync(target.bytes));
const read = (target: Target): Promise<FlagState> => withAddon(target, () => noFlags(target), (binding) => binding.readFlags(target.bytes));
const filesystemNameSync = (target: Target): string => withAddonSync(target, () => 'unknown', (binding) => binding.filesystemNameSync(target.bytes));
const filesystemName = (target: Target): Promise<string> => withAddon(target, () => 'unknown', (binding) => binding.filesystemName(target.bytes));

function toAttributes(state: FlagState, filesystem: string): FileAttributes {
  return { appendOnly: state.appendOnly, immutable: state.immutable, flags: state.flags, filesystem };
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
  const target = toTarget(path);
  return toAttributes(readSync(target), filesystemNameSync(target));
}
export async function getFileAttributes(path: PathLike): Promise<FileAttributes> {
  const target = toTarget(path);
  const state = await read(target);
  return toAttributes(state, await filesystemName(target));
}
