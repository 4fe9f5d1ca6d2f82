// Signed notes (c2sp.org/signed-note, golang.org/x/mod/sumdb/note): Ed25519 keys, signing, and opening a note.
//
//   <text ending in \n>\n— <key name> <base64(4-byte key hash || signature)>\n ...
//
// Keys are text, so they can be kept in a file or an environment variable:
//   signer   PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 || 32-byte seed)>
//   verifier <name>+<8 hex key hash>+<base64(0x01 || 32-byte public key)>
// with key hash = the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian.
import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

import { invalidArgType, invalidArgValue } from '../validate';
import { checkpointError } from './errors';

/** The signature type byte of Ed25519 in keys and key hashes (c2sp.org/signed-note, "Signature types"). */
const ALG_ED25519 = 0x01;

/** Go's sumdb/note refuses a note with more than 100 signatures; the spec asks for at least 16. */
const MAX_SIGNATURES = 100;

const SIGNATURE_PREFIX = '\u2014 '; // em dash, space

// Go's unicode.IsSpace, which sumdb/note uses for names: JavaScript's \s differs (it has U+FEFF, lacks U+0085).
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

// Standard base64 with its padding (RFC 4648, section 4), as Go's base64.StdEncoding reads it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// DER prefixes that make a raw Ed25519 key importable (RFC 8410): PKCS #8 for the seed, SPKI for the public key.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface CheckpointSigner {
  readonly name: string;
  /** The key hash as a uint32. */
  readonly keyHash: number;
  /** The matching verifier key text. */
  readonly verifierKey: string;
  readonly privateKey: KeyObject;
}

export interface CheckpointVerifier {
  readonly name: string;
  readonly keyHash: number;
  /** The verifier key text it was read from. */
  readonly verifierKey: string;
  readonly publicKey: KeyObject;
}

export interface NoteSignature {
  name: string;
  /** The key hash as a uint32. */
  keyHash: number;
  /** The signature line's base64 (key hash and signature). */
  base64: string;
}

export interface OpenedNote {
  /** The signed text, final newline included. */
  text: string;
  /** Signatures by the keys given, each verified. */
  signatures: NoteSignature[];
  /** Signatures by keys not given: ignored, never checked. */
  unverified: NoteSignature[];
}

/** A name as sumdb/note accepts it: non-empty, no Unicode space, no '+'. (Strings here are UTF-16, so UTF-8 validity is well-formedness.) */
export function isValidKeyName(name: string): boolean {
  return name !== '' && isWellFormed(name) && !UNICODE_SPACE.test(name) && !name.includes('+');
}

function isWellFormed(text: string): boolean {
  // String.prototype.isWellFormed (Node 20): no lone surrogate, which UTF-8 would turn into U+FFFD.
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function keyHashOf(name: string, publicKey: Buffer): number {
  const digest = createHash('sha256').update(name).update('\n').update(Buffer.of(ALG_ED25519)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

const hex8 = (hash: number): string => hash.toString(16).padStart(8, '0');

function decodeBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

function verifierKeyText(name: string, keyHash: number, publicKey: Buffer): string {
  return `${name}+${hex8(keyHash)}+${Buffer.concat([Buffer.of(ALG_ED25519), publicKey]).toString('base64')}`;
}

function signerFromSeed(name: string, seed: Buffer): CheckpointSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const keyHash = keyHashOf(name, publicKey);
  return { name, keyHash, verifierKey: verifierKeyText(name, keyHash, publicKey), privateKey };
}

/**
 * A new Ed25519 key pair for signing checkpoints, as the texts sumdb/note's GenerateKey gives: keep
 * `signer` secret, publish `verifier`. `name` is the key's name and a checkpoint's default origin
 * (a schema-less URL such as example.com/audit is recommended).
 */
export function generateCheckpointKey(name: string): { signer: string; verifier: string } {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (!isValidKeyName(name)) throw invalidArgValue('name', "must be non-empty, with no spaces and no '+'", name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const signer = signerFromSeed(name, seed);
  const secret = Buffer.concat([Buffer.of(ALG_ED25519), seed]).toString('base64');
  return { signer: `PRIVATE+KEY+${name}+${hex8(signer.keyHash)}+${secret}`, verifier: signer.verifierKey };
}

/** The first count - 1 '+'-separated fields and the rest (base64 has '+' in its alphabet); null when there are fewer. */
function cut(text: string, count: number): string[] | null {
  const parts: string[] = [];
  let rest = text;
  for (let i = 1; i < count; i += 1) {
    const plus = rest.indexOf('+');
    if (plus < 0) return null;
    parts.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  parts.push(rest);
  return parts;
}

/** Reads a signer key; null when it is not one (the same rules as sumdb/note's NewSigner). */
function readSignerKey(text: string): CheckpointSigner | null {
  const parts = cut(text, 5);
  if (parts === null || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') return null;
  const [, , name, hash16, key64] = parts as [string, string, string, string, string];
  const key = decodeBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(hash16) || key === null || !isValidKeyName(name)) return null;
  if (key.length !== 33 || key[0] !== ALG_ED25519) return null;
  const signer = signerFromSeed(name, key.subarray(1));
  // The key hash names the public key, so it is checked once the public key is derived.
  return signer.keyHash === Number.parseInt(hash16, 16) ? signer : null;
}

/** Reads a verifier key; null when it is not one (the same rules as sumdb/note's NewVerifier). */
function readVerifierKey(text: string): CheckpointVerifier | null {
  const parts = cut(text, 3);
  if (parts === null) return null;
  const [name, hash16, key64] = parts as [string, string, string];
  const key = decodeBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(hash16) || key === null || !isValidKeyName(name)) return null;
  if (key.length !== 33 || key[0] !== ALG_ED25519) return null;
  const publicKeyBytes = key.subarray(1);
  const keyHash = keyHashOf(name, publicKeyBytes);
  if (keyHash !== Number.parseInt(hash16, 16)) return null;
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKeyBytes]), format: 'der', type: 'spki' });
  return { name, keyHash, verifierKey: text, publicKey };
}

const SIGNER_FORMAT = 'must be a signer key (PRIVATE+KEY+<name>+<8 hex>+<base64>) whose key hash matches its key';
const VERIFIER_FORMAT = 'must be a verifier key (<name>+<8 hex>+<base64>) whose key hash matches its key';

/** A signer key text, or a parsed signer, checked as an argument. */
export function parseSignerKey(signer: unknown, name = 'signer'): CheckpointSigner {
  if (isSigner(signer)) return signer;
  if (typeof signer !== 'string') throw invalidArgType(name, 'of type string', signer);
  const parsed = readSignerKey(signer);
  // Never echo a private key into an error message.
  if (parsed === null) throw invalidArgValue(name, SIGNER_FORMAT);
  return parsed;
}

export function parseVerifierKey(verifier: unknown, name = 'verifier'): CheckpointVerifier {
  if (isVerifier(verifier)) return verifier;
  if (typeof verifier !== 'string') throw invalidArgType(name, 'of type string', verifier);
  const parsed = readVerifierKey(verifier);
  if (parsed === null) throw invalidArgValue(name, VERIFIER_FORMAT, verifier);
  return parsed;
}

function isSigner(value: unknown): value is CheckpointSigner {
  return typeof value === 'object' && value !== null && (value as CheckpointSigner).privateKey?.type === 'private';
}

function isVerifier(value: unknown): value is CheckpointVerifier {
  return typeof value === 'object' && value !== null && (value as CheckpointVerifier).publicKey?.type === 'public';
}

/** The verifier key text that matches a signer key. */
export function verifierKeyOf(signer: string | CheckpointSigner): string {
  return parseSignerKey(signer).verifierKey;
}

/**
 * The keys a caller trusts, by name and key hash. One key, an array of keys, or parsed verifiers. The
 * same key listed twice counts once; two different keys with one name and key hash are refused, since a
 * signature could not say which of them it claims.
 */
export function parseVerifierKeys(keys: unknown, name = 'keys'): Map<string, CheckpointVerifier> {
  const list = typeof keys === 'string' || isVerifier(keys) ? [keys] : keys;
  if (!Array.isArray(list)) throw invalidArgType(name, 'a verifier key string or an array of them', keys);
  const known = new Map<string, CheckpointVerifier>();
  list.forEach((key, i) => {
    const verifier = parseVerifierKey(key, `${name}[${i}]`);
    const id = `${verifier.name}+${hex8(verifier.keyHash)}`;
    const seen = known.get(id);
    if (seen !== undefined && !seen.publicKey.equals(verifier.publicKey)) {
      throw invalidArgValue(`${name}[${i}]`, `names the same key as another entry (${id}) with a different public key`);
    }
    known.set(id, verifier);
  });
  return known;
}

/** Refuses text a note cannot carry: not ending in a newline, a control character other than \n, a lone surrogate. */
function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw checkpointError('ERR_INVALID_NOTE', 'a note text must end with a newline');
  if (!isWellFormed(text)) throw checkpointError('ERR_INVALID_NOTE', 'the text is not valid Unicode (a lone surrogate)');
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (control !== null) {
    const code = control[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw checkpointError('ERR_INVALID_NOTE', `the text holds the control character 0x${code} (only \\n is allowed)`);
  }
}

/**
 * Signs `text` (ending in a newline) with one or more signer keys, as sumdb/note's Sign does:
 * the text, a blank line, and one signature line per key. Ed25519 is deterministic, so the same text and
 * key always give the same note.
 */
export function signNote(text: string, signers: string | CheckpointSigner | readonly (string | CheckpointSigner)[]): string {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  const list = Array.isArray(signers) ? signers : [signers];
  if (list.length === 0) throw invalidArgValue('signers', 'must hold at least one signer key');
  const parsed = list.map((signer, i) => parseSignerKey(signer, Array.isArray(signers) ? `signers[${i}]` : 'signers'));
  checkNoteText(text);
  const message = Buffer.from(text, 'utf8');
  let note = `${text}\n`;
  for (const signer of parsed) {
    const signature = sign(null, message, signer.privateKey);
    const hash = Buffer.alloc(4);
    hash.writeUInt32BE(signer.keyHash, 0);
    note += `${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([hash, signature]).toString('base64')}\n`;
  }
  return note;
}

/** The note as bytes and as text, or ERR_INVALID_NOTE when it is not UTF-8 with no control character but \n. */
function noteBytes(note: string | Uint8Array): { bytes: Buffer; text: string } {
  let bytes: Buffer;
  let text: string;
  if (typeof note === 'string') {
    if (!isWellFormed(note)) throw checkpointError('ERR_INVALID_NOTE', 'the note is not valid UTF-8 (a lone surrogate)');
    text = note;
    bytes = Buffer.from(note, 'utf8');
  } else {
    bytes = Buffer.from(note.buffer, note.byteOffset, note.byteLength);
    try {
      text = STRICT_UTF8.decode(bytes);
    } catch {
      throw checkpointError('ERR_INVALID_NOTE', 'the note is not valid UTF-8');
    }
  }
  for (const byte of bytes) {
    if (byte < 0x20 && byte !== 0x0a) {
      const shown = byte === 0x0d ? '\\r (a CRLF line ending?)' : byte === 0x09 ? 'a tab' : `0x${byte.toString(16).padStart(2, '0')}`;
      throw checkpointError('ERR_INVALID_NOTE', `the note holds the control character ${shown}; only \\n may end a line`);
    }
  }
  return { bytes, text };
}

/**
 * Opens a signed note: checks its form, verifies the signatures of the keys given and ignores the
 * others (c2sp.org/signed-note, "Signatures"). Throws ERR_INVALID_NOTE when it is not a note,
 * ERR_INVALID_NOTE_SIGNATURE when a given key's signature fails (the whole note is refused), and
 * ERR_UNVERIFIED_NOTE when no given key signed it.
 */
export function openNote(note: string | Uint8Array, keys: unknown): OpenedNote {
  if (typeof note !== 'string' && !(note instanceof Uint8Array)) throw invalidArgType('note', 'of type string or an instance of Buffer', note);
  const known = parseVerifierKeys(keys);
  const { bytes, text: whole } = noteBytes(note);

  // The text ends at the last blank line; everything after it is signature lines, each ending in \n.
  const split = whole.lastIndexOf('\n\n');
  if (split < 0) throw checkpointError('ERR_INVALID_NOTE', 'there is no blank line before the signatures');
  const text = whole.slice(0, split + 1);
  const block = whole.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw checkpointError('ERR_INVALID_NOTE', 'the signature block is empty or does not end with a newline');
  // The signed bytes: the text's UTF-8 (a prefix of the note's bytes).
  const message = bytes.subarray(0, Buffer.byteLength(text, 'utf8'));

  const opened: OpenedNote = { text, signatures: [], unverified: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw checkpointError('ERR_INVALID_NOTE', `it has more than ${MAX_SIGNATURES} signature lines`);
  lines.forEach((line, i) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw checkpointError('ERR_INVALID_NOTE', `signature line ${i + 1} does not start with "\u2014 "`);
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const base64 = space < 0 ? '' : rest.slice(space + 1);
    const raw = decodeBase64(base64);
    if (raw === null || base64 === '' || raw.length < 5 || !isValidKeyName(name)) {
      throw checkpointError('ERR_INVALID_NOTE', `signature line ${i + 1} is not "\u2014 <key name> <base64 signature>"`);
    }
    const keyHash = raw.readUInt32BE(0);
    const id = `${name}+${hex8(keyHash)}`;
    const verifier = known.get(id);
    if (verifier === undefined) {
      // Unknown keys are ignored, even when they share the name or the key hash (not both) of a known one.
      if (!seenUnverified.has(rest)) opened.unverified.push({ name, keyHash, base64 });
      seenUnverified.add(rest);
      return;
    }
    if (seen.has(id)) return; // one signature per key counts
    seen.add(id);
    if (!verify(null, message, verifier.publicKey, raw.subarray(4))) {
      throw checkpointError('ERR_INVALID_NOTE_SIGNATURE', `the signature of key ${id} does not verify`);
    }
    opened.signatures.push({ name, keyHash, base64 });
  });
  if (opened.signatures.length === 0) {
    const names = opened.unverified.map((signature) => `${signature.name}+${hex8(signature.keyHash)}`);
    throw checkpointError('ERR_UNVERIFIED_NOTE', `no key given signed the note (it is signed by ${names.join(', ')})`);
  }
  return opened;
}
