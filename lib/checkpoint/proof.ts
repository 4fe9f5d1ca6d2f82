// Proofs against signed checkpoints: the c2sp.org/tlog-proof@v1 text, and checks that need no log.
//
//   c2sp.org/tlog-proof@v1
//   [extra <base64>]
//   index <leaf index>
//   <base64 hash>      one per line, from the leaf's sibling up to the root's child
//
//   <the checkpoint, a signed note, verbatim>
import { AppendOnlyError } from '../errors';
import { checkOptions, invalidArgType, invalidArgValue, outOfRange } from '../validate';
import { hashFrom, openCheckpoint } from './checkpoint';
import { checkpointError } from './errors';
import { EMPTY_ROOT, leafHash, sameHash, verifyConsistency, verifyInclusion } from './merkle';

const HEADER = 'c2sp.org/tlog-proof@v1';
const INDEX = /^index (0|[1-9][0-9]*)$/;
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** An inclusion proof: leaf `index` (seq - 1) in the tree of `size` leaves. Hashes are base64. */
export interface InclusionProof {
  index: number;
  size: number;
  hashes: string[];
}

/** A consistency proof from the tree of `oldSize` leaves to the tree of `newSize`. Hashes are base64. */
export interface ConsistencyProof {
  oldSize: number;
  newSize: number;
  hashes: string[];
}

/** A tlog-proof read back: the proof, the checkpoint it names (a signed note, unverified yet) and any extra data. */
export interface ParsedProof {
  index: number;
  hashes: string[];
  checkpoint: string;
  /** The opaque `extra` bytes; not authenticated by anything. */
  extra: Buffer | null;
}

export type CheckFailure =
  | 'invalid-note' // the checkpoint is not a signed note, or its text is not a checkpoint
  | 'unverified-note' // no key given signed it
  | 'invalid-signature' // a given key's signature on it fails
  | 'invalid-proof' // the proof does not lead from the record to the checkpoint's root
  | 'size-mismatch' // the proof is for another tree size than the checkpoint's
  | 'checkpoint-mismatch'; // a tlog-proof text names another checkpoint than the one given

export interface CheckResult {
  ok: boolean;
  /** The checkpoint's (for consistency, the new checkpoint's) tree size and base64 root, once opened. */
  size?: number;
  root?: string;
  reason?: CheckFailure;
  detail?: string;
}

/** The tlog-proof@v1 text of an inclusion proof and its signed checkpoint. `extra` is opaque and unauthenticated. */
export function formatProof(proof: { index: number; hashes: readonly (string | Uint8Array)[] }, checkpoint: string, options: { extra?: Uint8Array } = {}): string {
  if (typeof proof !== 'object' || proof === null) throw invalidArgType('proof', 'of type object', proof);
  const { extra } = checkOptions(options, ['extra']) as { extra?: unknown };
  if (!Number.isSafeInteger(proof.index) || proof.index < 0) throw outOfRange('proof.index', 'an integer >= 0', proof.index);
  if (!Array.isArray(proof.hashes)) throw invalidArgType('proof.hashes', 'an array of hashes', proof.hashes);
  const hashes = proof.hashes.map((hash, i) => {
    const bytes = hashFrom(hash);
    if (bytes === null) throw invalidArgValue(`proof.hashes[${i}]`, 'must be 32 bytes (a Buffer, base64 or 64 hex digits)', hash);
    return bytes.toString('base64');
  });
  if (typeof checkpoint !== 'string') throw invalidArgType('checkpoint', 'of type string', checkpoint);
  if (extra !== undefined && !(extra instanceof Uint8Array)) throw invalidArgType('options.extra', 'an instance of Buffer', extra);
  const lines = [HEADER];
  if (extra !== undefined) lines.push(`extra ${Buffer.from(extra).toString('base64')}`);
  lines.push(`index ${proof.index}`, ...hashes, '');
  return `${lines.join('\n')}\n${checkpoint}`;
}

/** Reads a tlog-proof@v1 text; ERR_INVALID_PROOF when it is not one. The checkpoint is returned unverified. */
export function parseProof(text: string): ParsedProof {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw checkpointError('ERR_INVALID_PROOF', 'there is no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (lines[0] !== HEADER) throw checkpointError('ERR_INVALID_PROOF', `the first line is not ${HEADER}`);
  let at = 1;
  let extra: Buffer | null = null;
  if (lines[at]?.startsWith('extra ')) {
    const encoded = lines[at]!.slice('extra '.length);
    if (!BASE64.test(encoded)) throw checkpointError('ERR_INVALID_PROOF', 'the extra line is not base64');
    extra = Buffer.from(encoded, 'base64');
    at += 1;
  }
  const index = INDEX.exec(lines[at] ?? '');
  if (index === null || !Number.isSafeInteger(Number(index[1]))) {
    throw checkpointError('ERR_INVALID_PROOF', 'the index line is not "index <decimal without leading zeros>"');
  }
  const hashes = lines.slice(at + 1);
  hashes.forEach((hash, i) => {
    if (!BASE64_32.test(hash) || hashFrom(hash) === null) throw checkpointError('ERR_INVALID_PROOF', `proof line ${i + 1} is not the base64 of a 32-byte hash`);
  });
  if (checkpoint === '') throw checkpointError('ERR_INVALID_PROOF', 'the checkpoint is missing');
  return { index: Number(index[1]), hashes, checkpoint, extra };
}

const FAILURES: Record<string, CheckFailure> = {
  ERR_INVALID_NOTE: 'invalid-note',
  ERR_INVALID_CHECKPOINT: 'invalid-note',
  ERR_UNVERIFIED_NOTE: 'unverified-note',
  ERR_INVALID_NOTE_SIGNATURE: 'invalid-signature',
};

/** Opens a checkpoint for a check: a note that does not verify is a failed check, not an exception. */
export function openForCheck(note: unknown, keys: unknown, name: string): { size: number; root: Buffer } | CheckResult {
  if (typeof note !== 'string' && !(note instanceof Uint8Array)) throw invalidArgType(name, 'of type string or an instance of Buffer', note);
  try {
    const { size, root } = openCheckpoint(note, keys);
    return { size, root };
  } catch (error) {
    const reason = error instanceof AppendOnlyError ? FAILURES[error.code] : undefined;
    if (reason === undefined) throw error;
    return { ok: false, reason, detail: (error as AppendOnlyError).message };
  }
}

function hashList(hashes: unknown, name: string): Buffer[] {
  if (!Array.isArray(hashes)) throw invalidArgType(name, 'an array of hashes', hashes);
  return hashes.map((hash: unknown, i) => {
    const bytes = typeof hash === 'string' || hash instanceof Uint8Array ? hashFrom(hash) : null;
    if (bytes === null) throw invalidArgValue(`${name}[${i}]`, 'must be 32 bytes (a Buffer, base64 or 64 hex digits)', hash);
    return bytes;
  });
}

/**
 * Whether the record with hash `recordHash` (64 hex digits, as in the log, or 32 bytes) is in the tree
 * that the signed checkpoint `note` commits to, as `proof` shows. `proof` is the object proveInclusion
 * gave or a tlog-proof text; with a text, `note` may be null and the checkpoint inside the text is used.
 * `keys` are the verifier keys trusted to sign checkpoints.
 */
export function checkInclusion(recordHash: string | Uint8Array, proof: InclusionProof | string, note: string | Uint8Array | null, keys: unknown): CheckResult {
  const record = hashFrom(recordHash as Uint8Array | string);
  if (record === null) throw invalidArgValue('recordHash', 'must be a record hash: 64 hex digits or 32 bytes', recordHash);
  let index: number;
  let hashes: Buffer[];
  let proofSize: number | undefined;
  let checkpoint = note;
  if (typeof proof === 'string') {
    const parsed = parseProof(proof);
    index = parsed.index;
    hashes = hashList(parsed.hashes, 'proof.hashes');
    if (checkpoint === null) checkpoint = parsed.checkpoint;
    else if (parsed.checkpoint !== (typeof checkpoint === 'string' ? checkpoint : Buffer.from(checkpoint).toString('utf8'))) {
      return { ok: false, reason: 'checkpoint-mismatch', detail: 'the proof names another checkpoint than the one given' };
    }
  } else {
    if (typeof proof !== 'object' || proof === null) throw invalidArgType('proof', 'of type object or string', proof);
    if (!Number.isSafeInteger(proof.index) || proof.index < 0) throw outOfRange('proof.index', 'an integer >= 0', proof.index);
    index = proof.index;
    hashes = hashList(proof.hashes, 'proof.hashes');
    proofSize = proof.size;
  }
  const opened = openForCheck(checkpoint, keys, 'note');
  if ('ok' in opened) return opened;
  const result = { size: opened.size, root: opened.root.toString('base64') };
  if (proofSize !== undefined && proofSize !== opened.size) {
    return { ok: false, ...result, reason: 'size-mismatch', detail: `the proof is for a tree of ${proofSize} records, the checkpoint's has ${opened.size}` };
  }
  if (!verifyInclusion(index, opened.size, leafHash(record), hashes, opened.root)) {
    return { ok: false, ...result, reason: 'invalid-proof', detail: `the proof does not lead from the record at index ${index} to the checkpoint's root` };
  }
  return { ok: true, ...result };
}

/**
 * Whether the tree of the signed checkpoint `newNote` extends the tree of `oldNote`, as `proof` shows:
 * the log was only appended to between them. Both notes must verify with `keys`. An old checkpoint of
 * size 0 is consistent with every tree, given an empty proof and the empty tree's root.
 */
export function checkConsistency(oldNote: string | Uint8Array, newNote: string | Uint8Array, proof: ConsistencyProof | readonly (string | Uint8Array)[], keys: unknown): CheckResult {
  const hashes = hashList(Array.isArray(proof) ? proof : (proof as ConsistencyProof)?.hashes, Array.isArray(proof) ? 'proof' : 'proof.hashes');
  const older = openForCheck(oldNote, keys, 'oldNote');
  if ('ok' in older) return { ...older, detail: `the old checkpoint: ${older.detail}` };
  const newer = openForCheck(newNote, keys, 'newNote');
  if ('ok' in newer) return { ...newer, detail: `the new checkpoint: ${newer.detail}` };
  const result = { size: newer.size, root: newer.root.toString('base64') };
  if (!Array.isArray(proof)) {
    const { oldSize, newSize } = proof as ConsistencyProof;
    if (oldSize !== older.size || newSize !== newer.size) {
      return { ok: false, ...result, reason: 'size-mismatch', detail: `the proof is from ${oldSize} to ${newSize} records, the checkpoints are at ${older.size} and ${newer.size}` };
    }
  }
  if (older.size > newer.size) {
    return { ok: false, ...result, reason: 'size-mismatch', detail: `the old checkpoint (${older.size} records) is larger than the new one (${newer.size})` };
  }
  const ok =
    older.size === 0 ? hashes.length === 0 && sameHash(older.root, EMPTY_ROOT) : verifyConsistency(older.size, newer.size, older.root, newer.root, hashes);
  if (!ok) {
    return { ok: false, ...result, reason: 'invalid-proof', detail: `the tree of ${newer.size} records does not extend the tree of ${older.size} as the proof claims` };
  }
  return { ok: true, ...result };
}
