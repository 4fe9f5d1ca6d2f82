// The options of the pino and winston integrations: plain data that survives structured cloning into
// pino's worker thread, turned into AppendOnlyLog.open()'s arguments.
import { readFileSync } from 'node:fs';

import type { LogKey, OpenOptions, RotateOptions } from '../log/index';
import { parseOpenOptions } from '../log/options';
import { type PathLike, toTarget } from '../paths';
import { checkOptions, invalidArgType, invalidArgValue } from '../validate';

/**
 * A signing key as plain data. Structured cloning turns a Buffer into a Uint8Array, so both are taken;
 * `secretFile` names a file holding the secret's bytes (one trailing newline is ignored, as the CLI's
 * `--key id=FILE` does).
 */
export type IntegrationKey = { id: string; secret: string | Uint8Array } | { id: string; secretFile: string };

/** Signed checkpoints, passed through to AppendOnlyLog.open() as given. */
export interface CheckpointOptions {
  signer: string;
  origin?: string;
  every?: { records?: number; ms?: number };
  /** Called with each signed note. A function does not survive cloning: the destination and winston only. */
  onCheckpoint?: (note: string) => void;
}

export interface IntegrationLogOptions {
  /**
   * The log file, or the directory of a segmented log (with `rotate`). A pino transport's options are
   * cloned into a worker thread, where a URL does not survive: give it a string or a Buffer there.
   */
  path: PathLike | Uint8Array;
  key?: IntegrationKey;
  protect?: boolean | 'required';
  durability?: 'sync' | 'none';
  rotate?: RotateOptions;
  checkpoints?: CheckpointOptions;
}

export const LOG_OPTIONS = ['path', 'key', 'protect', 'durability', 'rotate', 'checkpoints'] as const;

function toKey(key: unknown, name: string): LogKey {
  if (key === undefined) throw invalidArgType(name, 'of type object', key);
  const { id, secret, secretFile } = checkOptions(key, ['id', 'secret', 'secretFile'], name);
  if ((secret === undefined) === (secretFile === undefined)) {
    throw invalidArgValue(name, 'must have exactly one of secret and secretFile');
  }
  if (secretFile !== undefined) {
    if (typeof secretFile !== 'string') throw invalidArgType(`${name}.secretFile`, 'of type string', secretFile);
    const bytes = readFileSync(secretFile);
    return { id: id as string, secret: bytes[bytes.length - 1] === 0x0a ? bytes.subarray(0, -1) : bytes };
  }
  // AppendOnlyLog.open() checks the id and the secret's length, naming options.key.
  const bytes = secret instanceof Uint8Array && !Buffer.isBuffer(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : secret;
  return { id, secret: bytes } as LogKey;
}

/**
 * Splits `options` into the log's path and open options; `extra` names the options the caller handles
 * itself. Only options that were given are passed on: the log refuses unknown names, and an undefined
 * value would name one.
 */
export function toLogOptions(
  options: unknown,
  extra: readonly string[] = [],
): { path: PathLike; open: OpenOptions; rest: Record<string, unknown> } {
  if (options === undefined) throw invalidArgType('options', 'of type object', options);
  const given = checkOptions(options, [...LOG_OPTIONS, ...extra]);
  const { path, key, protect, durability, rotate, checkpoints } = given;
  if (path === undefined) throw invalidArgType('options.path', 'of type string or an instance of Buffer', path);
  const open: Record<string, unknown> = {};
  if (key !== undefined) open.key = toKey(key, 'options.key');
  if (protect !== undefined) open.protect = protect;
  if (durability !== undefined) open.durability = durability;
  if (rotate !== undefined) open.rotate = rotate;
  if (checkpoints !== undefined) open.checkpoints = checkpoints;
  const rest = Object.fromEntries(Object.entries(given).filter(([name]) => extra.includes(name)));
  const bytes = path instanceof Uint8Array && !Buffer.isBuffer(path) ? Buffer.from(path.buffer, path.byteOffset, path.byteLength) : path;
  // Checked now, as AppendOnlyLog.open() will check them: a logger is built synchronously, and a
  // mistake belongs at the line that made it, not in an 'error' event later.
  toTarget(bytes, 'options.path');
  parseOpenOptions(open);
  return { path: bytes as PathLike, open: open as OpenOptions, rest };
}
