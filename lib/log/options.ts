// AppendOnlyLog.open()'s options and signing keys: checked once, at the public boundary.
import { checkOptions, invalidArgType, invalidArgValue, outOfRange } from '../validate';
import { KEY_ID_PATTERN, type SigningKey } from './format';
import { type RotateOptions, type RotationPolicy, parseRotate } from './rotation';

import { type CheckpointOptions, type CheckpointPolicy, parseCheckpoints } from './checkpoints';

export type { RotateOptions } from './rotation';
export type { CheckpointOptions } from './checkpoints';

export interface LogKey {
  /** Stored in every record it signs: letters, digits and . _ : - (1 to 64). */
  id: string;
  /** At least 16 bytes; 32 random bytes is right. */
  secret: string | Buffer;
}

export interface OpenOptions {
  /** Set the OS append-only flag: true warns if it cannot, 'required' throws. Default: FS_APPEND_ONLY_PROTECT. */
  protect?: boolean | 'required';
  /** Sign every record with HMAC-SHA256. */
  key?: LogKey;
  /** 'sync' (default): append() resolves once the record is on disk. 'none': the OS flushes when it likes. */
  durability?: 'sync' | 'none';
  /** Make the log a directory of segments, sealed and started in turn by size or time. */
  rotate?: RotateOptions;
  /** Keep the Merkle tree of the records and sign checkpoints of it (c2sp.org/tlog-checkpoint). */
  checkpoints?: CheckpointOptions;
}

export interface ParsedOptions {
  protect: boolean | 'required';
  key: SigningKey | null;
  durable: boolean;
  rotate: RotationPolicy | null;
  checkpoints: CheckpointPolicy | null;
}

const OPEN_OPTIONS = ['protect', 'key', 'durability', 'rotate', 'checkpoints'] as const;

export function toSigningKey(key: unknown, name: string): SigningKey {
  if (key === undefined) throw invalidArgType(name, 'of type object', key);
  const { id, secret } = checkOptions(key, ['id', 'secret'], name);
  if (typeof id !== 'string') throw invalidArgType(`${name}.id`, 'of type string', id);
  if (!KEY_ID_PATTERN.test(id)) throw invalidArgValue(`${name}.id`, 'must be 1 to 64 letters, digits or . _ : -', id);
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) {
    throw invalidArgType(`${name}.secret`, 'of type string or an instance of Buffer', secret);
  }
  const bytes = Buffer.from(secret);
  if (bytes.length < 16) throw outOfRange(`${name}.secret`, 'at least 16 bytes long (32 random bytes is right)', `${bytes.length} bytes`);
  return { id, secret: bytes };
}

function protectFromEnvironment(): boolean {
  const value = process.env.FS_APPEND_ONLY_PROTECT?.toLowerCase();
  return value === '1' || value === 'true';
}

export function parseOpenOptions(options: unknown): ParsedOptions {
  const given = checkOptions(options, OPEN_OPTIONS);
  const { protect = protectFromEnvironment(), key, durability = 'sync' } = given;
  if (protect !== true && protect !== false && protect !== 'required') {
    if (typeof protect !== 'boolean' && typeof protect !== 'string') throw invalidArgType('options.protect', "of type boolean or 'required'", protect);
    throw invalidArgValue('options.protect', "must be true, false or 'required'", protect);
  }
  if (durability !== 'sync' && durability !== 'none') {
    if (typeof durability !== 'string') throw invalidArgType('options.durability', 'of type string', durability);
    throw invalidArgValue('options.durability', "must be 'sync' or 'none'", durability);
  }
  return {
    protect,
    key: key === undefined ? null : toSigningKey(key, 'options.key'),
    durable: durability === 'sync',
    rotate: parseRotate(given.rotate),
    checkpoints: parseCheckpoints(given.checkpoints),
  };
}
