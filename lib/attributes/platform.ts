// platformSupportInfo(): can this process protect files here, and if not, exactly what to do.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

import {
  MISSING_CAPABILITY,
  USER_NAMESPACE,
  USER_NAMESPACE_FIX,
  UNSUPPORTED_PLATFORM_FIX,
  capabilityFix,
  filesystemFix,
  filesystemLacksFlags,
  sentence,
  unsupportedPlatform,
} from './advice';
import {
  type ContainerRuntime,
  type FlagMethod,
  type NativeBinding,
  addonUnavailable,
  addonUnavailableFix,
  loadBinding,
  platformCapabilities,
} from '../binding';
import { isSystemError } from '../errors';
import { explainFailure } from './explain';
import { filesystemKeepsFlags } from './filesystems';
import { type PathLike, toTarget } from '../paths';
import { checkOptions } from '../validate';

export interface PlatformSupportOptions {
  /** A directory (or a file in it) to try the flag in, for real, on a temporary file. */
  path?: PathLike;
}

export interface PlatformSupportInfo {
  platform: NodeJS.Platform;
  /** Whether protectAppendOnly() can work for this process (with `path`: does work in that directory). */
  supported: boolean;
  method: FlagMethod;
  inContainer: boolean;
  containerRuntime: ContainerRuntime | null;
  /**
   * Linux: CAP_LINUX_IMMUTABLE is in CapEff. macOS/FreeBSD: true (owners may set UF_APPEND). false where
   * nothing could be probed: a platform without the attribute, or no addon (the notes say which).
   */
  hasCapability: boolean;
  userNamespace: boolean;
  /** The filesystem of `path`; null without it. */
  filesystem: string | null;
  /** What was found, and what to do when it is not supported. */
  notes: string;
}

interface Trial {
  ok: boolean;
  /** The error code when it failed. */
  code?: string;
  note: string;
}

// Creates a file of its own in `directory`, sets the flag, lets the addon read it back, clears it and
// removes the file. Only this answers for sure: a capability held in a user namespace, or a
// filesystem, may still refuse.
function tryFlagIn(binding: NativeBinding, directory: string): Trial {
  const probe = join(directory, `.fs-append-only-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  const target = toTarget(probe);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (error) {
    const code = isSystemError(error) ? error.code : String(error);
    return { ok: false, code, note: `Could not create a probe file in ${directory} (${code}): use a directory this process may write to.` };
  }
  try {
    binding.changeFlagsSync(target.bytes, binding.APPEND_ONLY, true, false);
    return { ok: true, note: `Verified in ${directory}: the append-only flag was set, read back and cleared on a temporary file.` };
  } catch (error) {
    const explained = explainFailure(error, target);
    const code = isSystemError(explained) ? explained.code : undefined;
    const message = explained instanceof Error ? explained.message : String(explained);
    return { ok: false, code, note: `Trying the flag in ${directory} failed: ${message}` };
  } finally {
    // Clearing a flag that was never set makes no change and needs no capability.
    try {
      binding.changeFlagsSync(target.bytes, binding.APPEND_ONLY | binding.IMMUTABLE, false, false);
    } catch {
      // the filesystem keeps no flags: nothing to clear
    }
    rmSync(probe, { force: true });
  }
}

// The directory to try the flag in. A path that does not exist yet is usually the log about to be
// created, so its parent is meant; one ending in a separator can only mean a directory.
function directoryOf(path: string): string {
  try {
    return statSync(path).isDirectory() ? path : dirname(path);
  } catch (error) {
    const endsInSeparator = path.endsWith('/') || path.endsWith(sep);
    if (isSystemError(error) && error.code === 'ENOENT' && !endsInSeparator) return dirname(path);
    return path; // reported by the trial: the probe file cannot be created there
  }
}

export function platformSupportInfo(options?: PlatformSupportOptions): PlatformSupportInfo {
  const { path } = checkOptions(options, ['path']);
  const directory = path === undefined ? null : directoryOf(toTarget(path, 'options.path').text);
  const { flagMethod: method } = platformCapabilities();
  const info: PlatformSupportInfo = {
    platform: process.platform,
    supported: false,
    method,
    inContainer: false,
    containerRuntime: null,
    hasCapability: false,
    userNamespace: false,
    filesystem: null,
    notes: '',
  };

  if (method === 'none') {
    info.notes = sentence(unsupportedPlatform(process.platform), UNSUPPORTED_PLATFORM_FIX);
    return info;
  }
  // The capability, the user namespace and the container are probed by the addon: without it nothing
  // here is known, and the answer says so rather than guess.
  const { binding, error } = loadBinding();
  if (binding === null) {
    info.notes = sentence(
      `${addonUnavailable(error)}, so whether this process may set the flag (its capability, user namespace and container) could not be probed`,
      addonUnavailableFix(),
    );
    return info;
  }
  const facts = binding.probeProcessSync();
  Object.assign(info, facts);

  const problems: string[] = [];
  if (!facts.hasCapability) problems.push(sentence(MISSING_CAPABILITY, capabilityFix(facts.containerRuntime)));
  else if (facts.userNamespace) problems.push(sentence(USER_NAMESPACE, USER_NAMESPACE_FIX));

  if (directory !== null) {
    try {
      info.filesystem = binding.filesystemNameSync(toTarget(directory).bytes);
    } catch {
      info.filesystem = null; // the directory is missing: the trial says so
    }
    if (info.filesystem !== null && filesystemKeepsFlags(info.filesystem) === false) {
      problems.push(sentence(filesystemLacksFlags(info.filesystem), filesystemFix()));
    }
    const trial = tryFlagIn(binding, directory);
    info.supported = trial.ok;
    if (trial.ok || problems.length === 0) info.notes = trial.note;
    else info.notes = `${problems.join(' ')} Trying the flag in ${directory} confirmed it (${trial.code}).`;
    return info;
  }

  info.supported = problems.length === 0;
  info.notes = info.supported ? availableNote(method) : problems.join(' ');
  return info;
}

function availableNote(method: 'ioctl' | 'chflags'): string {
  const who =
    method === 'ioctl'
      ? 'This process holds CAP_LINUX_IMMUTABLE, so it can set the append-only flag.'
      : "The file's owner can set UF_APPEND, which stops other users and accidents but not the owner; { system: true } sets SF_APPEND (root only).";
  return `${who} Try it for real in a directory (platformSupportInfo({ path }), or fs-append-only info --path DIR): a filesystem may still refuse the flag.`;
}
