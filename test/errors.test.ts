// AppendOnlyError as code outside this library makes it: a message alone, { cause }, or full details.
import { describe, expect, it } from 'vitest';

import { AppendOnlyError } from '../lib/index';

describe('AppendOnlyError', () => {
  it('is constructible with a message alone', () => {
    const error = new AppendOnlyError('the audit log is sealed');
    expect(error).toBeInstanceOf(AppendOnlyError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AppendOnlyError');
    expect(error.message).toBe('the audit log is sealed');
    expect(error.code).toBe('ERR_APPEND_ONLY');
    expect(error.fix).toBe('');
    expect(error.errno).toBeUndefined();
    expect(error.syscall).toBeUndefined();
    expect(error.path).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect(Object.hasOwn(error, 'cause')).toBe(false);
    expect(String(error)).toBe('AppendOnlyError: the audit log is sealed');
    expect(error.stack).toContain('AppendOnlyError: the audit log is sealed');
  });

  it('is constructible with nothing, like Error', () => {
    const error = new AppendOnlyError();
    expect(error.message).toBe('');
    expect(error.code).toBe('ERR_APPEND_ONLY');
    expect(new AppendOnlyError('x', null as never).code).toBe('ERR_APPEND_ONLY');
  });

  it('takes { cause } the way Error does', () => {
    const cause = new Error('EPERM underneath');
    const error = new AppendOnlyError('could not protect the log', { cause });
    expect(error.cause).toBe(cause);
    expect(error.code).toBe('ERR_APPEND_ONLY');
  });

  it('keeps every detail given', () => {
    const cause = Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    const error = new AppendOnlyError("EPERM: operation not permitted, ioctl '/x'. Grant it.", {
      code: 'EPERM',
      errno: -1,
      syscall: 'ioctl',
      path: '/x',
      fix: 'Grant it',
      cause,
    });
    expect(error).toMatchObject({ name: 'AppendOnlyError', code: 'EPERM', errno: -1, syscall: 'ioctl', path: '/x', fix: 'Grant it' });
    expect(error.cause).toBe(cause);
  });

  it('can be subclassed by code that wraps it', () => {
    class AuditError extends AppendOnlyError {
      constructor(message: string) {
        super(message);
        this.name = 'AuditError';
      }
    }
    const error = new AuditError('wrapped');
    expect(error).toBeInstanceOf(AuditError);
    expect(error).toBeInstanceOf(AppendOnlyError);
    expect(error.name).toBe('AuditError');
    expect(error.code).toBe('ERR_APPEND_ONLY');
  });
});
