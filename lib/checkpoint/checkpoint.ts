// Checkpoints (c2sp.org/tlog-checkpoint): a tree head as a note body, signed and opened as a signed note.
//
//   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n ...]
import { checkOptions, invalidArgType, invalidArgValue, outOfRange } from '../validate';
import { checkpointError } from './errors';
import { HASH_BYTES } from './merkle';
import { type CheckpointSigner, type NoteSignature, openNote, parseSignerKey, signNote } from './note';

export interface Checkpoint {
  /** The log's identity: non-empty, one line. */
  origin: string;
  /** The number of leaves (records). */
  size: number;
  /** The tree's root hash, 32 bytes. */
  root: Buffer;
  /** Opaque lines after the root, each non-empty; usually none. */
  extensions: string[];
}

export interface OpenedCheckpoint extends Checkpoint {
  /** The checkpoint's text (the note text). */
  text: string;
  /** Signatures by the keys given, each verified. */
  signatures: NoteSignature[];
  /** Signatures by other keys (witnesses, rotated keys), not checked. */
  unverified: NoteSignature[];
}

export interface CheckpointInput {
  /** Defaults to the signer key's name when signing. */
  origin?: string;
  size: number;
  /** 32 bytes, or their base64 or 64 hex digits. */
  root: Uint8Array | string;
  extensions?: readonly string[];
}

const SIZE = /^(0|[1-9][0-9]*)$/;
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/** 32 bytes from a Buffer, base64 (44 characters) or hex (64 digits); null when it is none of them. */
export function hashFrom(value: Uint8Array | string): Buffer | null {
  if (value instanceof Uint8Array) return value.length === HASH_BYTES ? Buffer.from(value) : null;
  if (typeof value !== 'string') return null;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (BASE64_32.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    // Only the canonical form: the last character's unused bits are zero.
    return bytes.toString('base64') === value ? bytes : null;
  }
  return null;
}

function checkLine(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value === '' || value.includes('\n')) throw invalidArgValue(name, 'must be a non-empty single line', value);
  return value;
}

/** The checkpoint's note text. Throws TypeErrors for values a checkpoint cannot hold. */
export function formatCheckpointBody(checkpoint: CheckpointInput & { origin: string }): string {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw invalidArgType('checkpoint', 'of type object', checkpoint);
  const origin = checkLine(checkpoint.origin, 'checkpoint.origin');
  const { size } = checkpoint;
  if (typeof size !== 'number') throw invalidArgType('checkpoint.size', 'of type number', size);
  if (!Number.isSafeInteger(size) || size < 0) throw outOfRange('checkpoint.size', 'an integer >= 0', size);
  const root = hashFrom(checkpoint.root);
  if (root === null) throw invalidArgValue('checkpoint.root', 'must be 32 bytes (a Buffer, base64 or 64 hex digits)', checkpoint.root);
  const extensions = checkpoint.extensions ?? [];
  if (!Array.isArray(extensions)) throw invalidArgType('checkpoint.extensions', 'an array of strings', extensions);
  extensions.forEach((line, i) => checkLine(line, `checkpoint.extensions[${i}]`));
  return [origin, String(size), root.toString('base64'), ...extensions, ''].join('\n');
}

/** Reads a checkpoint's note text; ERR_INVALID_CHECKPOINT when it is not one. */
export function parseCheckpointBody(text: string): Checkpoint {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  if (!text.endsWith('\n')) throw checkpointError('ERR_INVALID_CHECKPOINT', 'the text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw checkpointError('ERR_INVALID_CHECKPOINT', `it has ${lines.length} lines, and a checkpoint has at least 3`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw checkpointError('ERR_INVALID_CHECKPOINT', 'the origin line is empty');
  if (!SIZE.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw checkpointError('ERR_INVALID_CHECKPOINT', `the size line ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal number without leading zeros`);
  }
  const root = BASE64_32.test(rootText) ? hashFrom(rootText) : null;
  if (root === null) throw checkpointError('ERR_INVALID_CHECKPOINT', 'the root line is not the base64 of 32 bytes');
  if (extensions.some((line) => line === '')) throw checkpointError('ERR_INVALID_CHECKPOINT', 'an extension line is empty');
  return { origin, size: Number(sizeText), root, extensions };
}

/** Signs a checkpoint; its origin defaults to the (first) signer key's name. Returns the signed note. */
export function signCheckpoint(checkpoint: CheckpointInput, signers: string | CheckpointSigner | readonly (string | CheckpointSigner)[]): string {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw invalidArgType('checkpoint', 'of type object', checkpoint);
  const first = Array.isArray(signers) ? signers[0] : signers;
  const origin = checkpoint.origin ?? parseSignerKey(first, 'signers').name;
  return signNote(formatCheckpointBody({ ...checkpoint, origin }), signers);
}

/**
 * Opens a signed checkpoint: the note's rules (openNote), then the body's. With `origin`, the
 * checkpoint's origin must be that one (ERR_INVALID_CHECKPOINT otherwise).
 */
export function openCheckpoint(note: string | Uint8Array, keys: unknown, options: { origin?: string } = {}): OpenedCheckpoint {
  const given = checkOptions(options, ['origin']);
  if (given.origin !== undefined) checkLine(given.origin, 'options.origin');
  const opened = openNote(note, keys);
  const checkpoint = parseCheckpointBody(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw checkpointError('ERR_INVALID_CHECKPOINT', `its origin is ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(options.origin)}`);
  }
  return { ...checkpoint, text: opened.text, signatures: opened.signatures, unverified: opened.unverified };
}
