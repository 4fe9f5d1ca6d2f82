// Turns a failed system call into an AppendOnlyError whose message names the cause and the fix.
import {
  BSD_PERMISSION,
  BSD_PERMISSION_FIX,
  MISSING_CAPABILITY,
  USER_NAMESPACE,
  USER_NAMESPACE_FIX,
  capabilityFix,
  filesystemFix,
  filesystemLacksFlags,
  sentence,
} from './advice';
import { loadBinding, platformCapabilities } from '../binding';
import { AppendOnlyError, isSystemError, type SystemError } from '../errors';
import type { Target } from '../paths';

export interface Explanation {
  cause: string;
  /** One sentence, or '' when there is nothing to advise. */
  fix: string;
}

/** Explains one failure, or returns undefined to leave it to the generic sentence. */
export type Explainer = (error: SystemError, target: Target) => Explanation | undefined;

const GENERIC: Explanation = { cause: 'the operating system refused the call', fix: '' };

function permission(): Explanation {
  if (platformCapabilities().flagMethod !== 'ioctl') return { cause: BSD_PERMISSION, fix: BSD_PERMISSION_FIX };
  // An EPERM comes from the addon, so it is loaded and can say what this process holds.
  const facts = loadBinding().binding?.probeProcessSync();
  if (facts === undefined || !facts.hasCapability) return { cause: MISSING_CAPABILITY, fix: capabilityFix(facts?.containerRuntime ?? null) };
  if (facts.userNamespace) return { cause: USER_NAMESPACE, fix: USER_NAMESPACE_FIX };
  return {
    cause:
      'this process holds CAP_LINUX_IMMUTABLE but does not own the file, and changing its flags also needs ' +
      'ownership or CAP_FOWNER',
    fix: "Run as the file's owner or as root, or chown the file first",
  };
}

function filesystemOf(target: Target): string {
  try {
    return loadBinding().binding?.filesystemNameSync(target.bytes) ?? 'this filesystem';
  } catch {
    return 'this filesystem';
  }
}

/** The attribute calls' explanations: reading and changing the append-only and immutable flags. */
export const explainAttributeCall: Explainer = (error, target) => {
  switch (error.code) {
    case 'EPERM':
      return permission();
    case 'EACCES':
      // Opening needs read permission; some older kernels also answer EACCES where they mean EPERM.
      return error.syscall === 'open'
        ? { cause: 'the process may not read the file, and the flags are read and changed through an open file', fix: "Grant read permission, or run as the file's owner" }
        : permission();
    case 'EROFS':
      return { cause: 'the filesystem is mounted read-only', fix: 'Remount it read-write, or keep the file elsewhere' };
    case 'ENOENT':
      return { cause: 'the file does not exist', fix: 'Create the file first: the flags belong to an existing file' };
    case 'ENOTDIR':
      return { cause: 'a component of the path is not a directory', fix: 'Check the path' };
    case 'ELOOP':
      return {
        cause: 'the path is a symbolic link, and links are never followed (the flag would land on whatever it points to)',
        fix: 'Pass the real path of the file you mean (fs.realpathSync)',
      };
    case 'EBADF':
      return { cause: 'the file descriptor is not open', fix: 'Pass a descriptor the process holds open' };
    case 'ENOTSUP':
      // The addon refuses other kinds of file at open; the filesystem refuses at the ioctl / fchflags.
      return error.syscall === 'open'
        ? { cause: 'only regular files and directories carry these flags', fix: 'Pass the path of a regular file or directory' }
        : { cause: filesystemLacksFlags(filesystemOf(target)), fix: filesystemFix() };
    default:
      return undefined;
  }
};

/**
 * Returns the error to throw: a system error (from the addon or node:fs) as an AppendOnlyError whose
 * message ends with its cause and fix, and anything else as it came. `explain` says what a code means
 * for the operation that failed (the attribute calls' by default); a code it does not know gets a
 * generic sentence. An error from a call on an fd names no path, as Node's own do: its message then
 * gains `target`'s, shaped like a path call's ("EPERM: operation not permitted, ioctl '/x'").
 */
export function explainFailure(error: unknown, target: Target | string, explain: Explainer = explainAttributeCall): unknown {
  if (!isSystemError(error) || error instanceof AppendOnlyError) return error;
  const where: Target = typeof target === 'string' ? { bytes: target, text: target } : target;
  const { cause, fix } = explain(error, where) ?? GENERIC;
  const head = error.path === undefined && error.syscall !== undefined ? `${error.message} '${where.text}'` : error.message;
  return new AppendOnlyError(`${head}. ${sentence(cause, fix)}`, {
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    path: error.path ?? where.text,
    fix,
    cause: error,
  });
}
