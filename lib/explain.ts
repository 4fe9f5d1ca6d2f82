// Turns a system error from the addon into an AppendOnlyError whose message names the cause and the fix.
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
import { loadBinding } from './binding';
import { AppendOnlyError, isSystemError, type SystemError } from './errors';
import type { Target } from './paths';
import { probeProcess } from './probe';

interface Explanation {
  cause: string;
  fix: string;
}

function permission(): Explanation {
  if (process.platform !== 'linux') return { cause: BSD_PERMISSION, fix: BSD_PERMISSION_FIX };
  const facts = probeProcess();
  if (!facts.hasCapability) return { cause: MISSING_CAPABILITY, fix: capabilityFix(facts.container.runtime) };
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

function explain(error: SystemError, target: Target): Explanation {
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
    case 'ENOTSUP':
      // The addon refuses other kinds of file at open; the filesystem refuses at the ioctl / fchflags.
      return error.syscall === 'open'
        ? { cause: 'only regular files and directories carry these flags', fix: 'Pass the path of a regular file or directory' }
        : { cause: filesystemLacksFlags(filesystemOf(target)), fix: filesystemFix() };
    default:
      return { cause: 'the operating system refused the call', fix: '' };
  }
}

/** Returns the error to throw: an AppendOnlyError for a system error, anything else as it came. */
export function explainFailure(error: unknown, target: Target): unknown {
  if (!isSystemError(error) || error instanceof AppendOnlyError) return error;
  const { cause, fix } = explain(error, target);
  return new AppendOnlyError(`${error.message}. ${sentence(cause, fix)}`, {
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    path: error.path ?? target.text,
    fix,
    cause: error,
  });
}
