// AppendOnlyError: a failure of the attribute calls, with the cause and the fix in its message.

export interface AppendOnlyErrorDetails {
  /** Defaults to 'ERR_APPEND_ONLY'. */
  code?: string | undefined;
  errno?: number | undefined;
  syscall?: string | undefined;
  path?: string | undefined;
  /** What the user can do about it, in one sentence; defaults to ''. */
  fix?: string | undefined;
  cause?: unknown;
}

/** The code of an AppendOnlyError made without one, e.g. by code wrapping this library's calls. */
export const DEFAULT_ERROR_CODE = 'ERR_APPEND_ONLY';

export class AppendOnlyError extends Error {
  /** 'EPERM', 'ENOTSUP', 'ELOOP', 'ENOENT', 'EROFS', 'ERR_ADDON_UNAVAILABLE', ... */
  readonly code: string;
  /** The negative errno, as in Node's own fs errors; undefined when no system call failed. */
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly path: string | undefined;
  /** What to do about it, also the last sentence of the message. */
  readonly fix: string;

  // Constructible like any Error, with a message alone or with { cause }: callers and libraries that
  // wrap or re-create errors (structured clone, test doubles, subclasses) do not know the details.
  constructor(message?: string, options?: AppendOnlyErrorDetails) {
    const details = options ?? {}; // null too, from JavaScript
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'AppendOnlyError';
    this.code = details.code ?? DEFAULT_ERROR_CODE;
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.path = details.path;
    this.fix = details.fix ?? '';
  }
}

/** The shape of the errors the addon and node:fs throw. */
export interface SystemError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

export function isSystemError(error: unknown): error is SystemError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
