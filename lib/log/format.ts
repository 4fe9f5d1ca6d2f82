// The log's file format: one JSON record per line, and exactly which bytes are hashed and signed.
//
//   {"seq":7,"ts":"2026-11-22T04:40:15.123Z","prev":"<64 hex>"[,"type":"<type>"][,"keyId":"k1"],"data":<JSON>[,"sig":"<64 hex>"],"hash":"<64 hex>"}\n
//
// type is absent for appended data; the library writes "recovery" (closing torn or foreign bytes),
// "seal" (ending a segment or a finished log), "prune" (naming the segments retention removed) and
// "checkpoint" (a signed note of the Merkle tree over the records before it).
//
// hash = SHA-256 of the line's bytes from "{" up to, not including, ',"hash":' (so it covers the signature).
// sig  = HMAC-SHA256(secret, the line's bytes from "{" up to, not including, ',"sig":').
// Both are computed over the bytes as written, never over a re-serialization, so a verifier in any
// language hashes what is in the file. Every field before "data" has a fixed form, so the line is read
// by position, not by a JSON parser that might treat duplicate keys differently.
import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { type EncodeRecord, type NativeHmacKey, nativeEncoder } from '../binding';

export const GENESIS = '0'.repeat(64);

/** The largest line a record may take, newline included. Larger values are refused with a RangeError. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Key ids are stored unescaped: letters, digits and . _ : - only. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export type RecordType = 'data' | 'recovery' | 'seal' | 'prune' | 'checkpoint';

export interface Head {
  seq: number;
  hash: string;
}

export interface RecordFields {
  seq: number;
  ts: string;
  prev: string;
  type: RecordType;
  keyId: string | null;
  /** The JSON text of the data, as JSON.stringify gave it. */
  dataJson: string;
}

export interface SigningKey {
  id: string;
  secret: Buffer;
}

const HASH_SUFFIX_BYTES = ',"hash":"'.length + 64 + '"}'.length; // 75
const SIG_FIELD_BYTES = ',"sig":"'.length + 64 + '"'.length; // 73

// crypto.hash (Node >= 20.12) skips the Hash object: about 1 µs less per record.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string }).hash;

export function sha256Hex(bytes: string | Buffer): string {
  return oneShotHash ? oneShotHash('sha256', bytes, 'hex') : createHash('sha256').update(bytes).digest('hex');
}

export function hmacHex(secret: Buffer, bytes: string | Buffer): string {
  return createHmac('sha256', secret).update(bytes).digest('hex');
}

/** The line for a record, newline included, and its hash. */
export function encodeRecord(fields: RecordFields, key: SigningKey | null): { line: string; hash: string } {
  const native = nativeEncoding();
  if (native !== null && nativeCanEncode(fields, key)) {
    const handle = key === null ? null : nativeKey(native, key);
    const line = native.encodeRecord(fields.seq, fields.ts, fields.prev, fields.type === 'data' ? null : fields.type, key?.id ?? null, fields.dataJson, handle);
    return { line, hash: line.slice(line.length - 67, line.length - 3) };
  }
  return encodeRecordJs(fields, key);
}

// The addon takes what the writer gives; anything else (a seq past 2^53, a secret that is not a Buffer,
// a field that is not a string) stays on the JavaScript path, which writes whatever String() makes of it.
function nativeCanEncode(fields: RecordFields, key: SigningKey | null): boolean {
  return (
    Number.isSafeInteger(fields.seq) &&
    fields.seq >= 0 &&
    typeof fields.ts === 'string' &&
    typeof fields.prev === 'string' &&
    typeof fields.type === 'string' &&
    typeof fields.dataJson === 'string' &&
    (key === null || (typeof key.id === 'string' && Buffer.isBuffer(key.secret)))
  );
}

// The addon's encoder (src/engine.cc), looked up on the first record: null means the JavaScript one.
// Both give the same bytes and hash. A lone surrogate (JSON.stringify never leaves one) is U+FFFD in
// UTF-8 either way; the addon's line string holds that U+FFFD already, the JavaScript one the surrogate.
interface NativeEncoding {
  encodeRecord: EncodeRecord;
  hmacKey: (secret: Buffer) => NativeHmacKey;
  /** Each secret's inner and outer states, made once; the copy notices a secret changed in place. */
  keys: WeakMap<Buffer, { secret: Buffer; handle: NativeHmacKey }>;
}
let nativeLookup: NativeEncoding | null | undefined;

function nativeEncoding(): NativeEncoding | null {
  if (nativeLookup === undefined) {
    const found = nativeEncoder();
    nativeLookup = found === undefined ? null : { ...found, keys: new WeakMap() };
  }
  return nativeLookup;
}

/** The addon's handle on a key's precomputed states (made once per secret), for the native record buffer. */
export function nativeKeyHandle(key: SigningKey): NativeHmacKey {
  const native = nativeEncoding();
  if (native === null) throw new Error('nativeKeyHandle: native encoding is off');
  return nativeKey(native, key);
}

function nativeKey(native: NativeEncoding, key: SigningKey): NativeHmacKey {
  const cached = native.keys.get(key.secret);
  if (cached !== undefined && sameBytes(cached.secret, key.secret)) return cached.handle;
  const secret = Buffer.from(key.secret);
  const handle = native.hmacKey(secret);
  native.keys.set(key.secret, { secret, handle });
  return handle;
}

// Buffer.equals crosses into C++: for a key's few bytes this loop costs a fifth of it.
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** encodeRecord in JavaScript alone: the reference the addon's encoder is tested against, and the fallback. */
export function encodeRecordJs(fields: RecordFields, key: SigningKey | null): { line: string; hash: string } {
  let body = `{"seq":${fields.seq},"ts":"${fields.ts}","prev":"${fields.prev}"`;
  if (fields.type !== 'data') body += `,"type":"${fields.type}"`;
  if (key !== null) body += `,"keyId":"${key.id}"`;
  body += `,"data":${fields.dataJson}`;
  if (key !== null) body += `,"sig":"${hmacHex(key.secret, body)}"`;
  const hash = sha256Hex(body);
  return { line: `${body},"hash":"${hash}"}\n`, hash };
}

/** A line read back: its fixed fields, where its data is, and the bytes its hash and signature cover. */
export interface ParsedLine {
  seq: number;
  ts: string;
  prev: string;
  type: RecordType;
  keyId: string | null;
  hash: string;
  sig: string | null;
  /** The data's JSON text, not parsed (verification never needs it). */
  dataJson: string;
  /** The bytes the hash covers; hashMatches() checks them (readers that check nothing skip the cost). */
  hashedBytes: Buffer;
  /** The bytes the signature covers, for a verifier holding the key. */
  signedBytes: Buffer | null;
}

const HEADER = /^\{"seq":(0|[1-9]\d{0,15}),"ts":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)","prev":"([0-9a-f]{64})"(?:,"type":"(recovery|seal|prune|checkpoint)")?(,"keyId":"([A-Za-z0-9._:-]{1,64})")?,"data":/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads one line (without its newline) by position. Returns null when it is not a well-formed record;
 * a well-formed record whose hash does not match is returned, and the caller compares.
 */
export function parseLine(line: Buffer): ParsedLine | null {
  const length = line.length;
  if (length < HASH_SUFFIX_BYTES + 40 || line[length - 1] !== 0x7d /* } */) return null;
  const hashStart = length - HASH_SUFFIX_BYTES;
  if (line.toString('latin1', hashStart, hashStart + 9) !== ',"hash":"' || line[length - 2] !== 0x22) return null;
  const hash = line.toString('latin1', hashStart + 9, hashStart + 73);
  if (!HEX64.test(hash)) return null;

  const header = HEADER.exec(line.toString('latin1', 0, Math.min(length, 256)));
  if (header === null) return null;
  const dataStart = header[0].length;

  let dataEnd = hashStart;
  let sig: string | null = null;
  const keyId = header[6] ?? null;
  if (keyId !== null) {
    const sigStart = hashStart - SIG_FIELD_BYTES;
    if (sigStart <= dataStart || line.toString('latin1', sigStart, sigStart + 8) !== ',"sig":"' || line[hashStart - 1] !== 0x22) return null;
    const sigHex = line.toString('latin1', sigStart + 8, sigStart + 72);
    if (!HEX64.test(sigHex)) return null;
    sig = sigHex;
    dataEnd = sigStart;
  }
  if (dataEnd <= dataStart) return null;

  const hashed = line.subarray(0, hashStart);
  return {
    seq: Number(header[1]),
    ts: header[2]!,
    prev: header[3]!,
    type: (header[4] as RecordType | undefined) ?? 'data',
    keyId,
    hash,
    sig,
    dataJson: line.toString('utf8', dataStart, dataEnd),
    hashedBytes: hashed,
    signedBytes: sig !== null ? line.subarray(0, dataEnd) : null,
  };
}

export function hashMatches(parsed: ParsedLine): boolean {
  return sha256Hex(parsed.hashedBytes) === parsed.hash;
}

export function signatureMatches(parsed: ParsedLine, secret: Buffer): boolean {
  if (parsed.sig === null || parsed.signedBytes === null) return false;
  const expected = Buffer.from(hmacHex(secret, parsed.signedBytes), 'hex');
  return timingSafeEqual(expected, Buffer.from(parsed.sig, 'hex'));
}
