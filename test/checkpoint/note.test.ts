// Signed notes against the published vectors of c2sp.org/signed-note and golang.org/x/mod/sumdb/note.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { generateCheckpointKey, openNote, parseSignerKey, parseVerifierKey, signNote, verifierKeyOf } from '../../lib/checkpoint/note';
import { codeOf } from './helpers';

const VECTORS = join(__dirname, '..', 'vectors', 'c2sp');
const go = JSON.parse(readFileSync(join(VECTORS, 'sumdb-note.json'), 'utf8')) as {
  signer: string;
  verifier: string;
  enochVerifier: string;
  text: string;
  signed: string;
  peterSig: string;
  enochSig: string;
  badVerifiers: Record<string, string>;
};
const c2sp = JSON.parse(readFileSync(join(VECTORS, 'signed-note.json'), 'utf8')) as {
  example: { verifier: string; note: string; text: string };
  quasimodo: { note: string; text: string };
};


describe('published vectors', () => {
  it('sumdb/note: signing the test text with the test key gives the published note byte for byte', () => {
    expect(signNote(go.text, go.signer)).toBe(go.signed);
  });

  it('sumdb/note: the test signer key derives the published verifier key', () => {
    expect(verifierKeyOf(go.signer)).toBe(go.verifier);
    expect(parseSignerKey(go.signer)).toMatchObject({ name: 'PeterNeumann', keyHash: 0xc74f20a3 });
  });

  it('sumdb/note: Open with one known key verifies it and lists the other as unverified', () => {
    const opened = openNote(`${go.text}\n${go.peterSig}${go.enochSig}`, [go.verifier]);
    expect(opened.text).toBe(go.text);
    expect(opened.signatures).toEqual([{ name: 'PeterNeumann', keyHash: 0xc74f20a3, base64: go.peterSig.split(' ')[2]!.trim() }]);
    expect(opened.unverified).toEqual([{ name: 'EnochRoot', keyHash: 0xaf0cfe78, base64: go.enochSig.split(' ')[2]!.trim() }]);
    expect(openNote(`${go.text}\n${go.peterSig}${go.enochSig}`, [go.verifier, go.enochVerifier]).signatures).toHaveLength(2);
  });

  it('sumdb/note: a note no given key signed is ERR_UNVERIFIED_NOTE', () => {
    expect(codeOf(() => openNote(`${go.text}\n${go.peterSig}${go.enochSig}`, []))).toBe('ERR_UNVERIFIED_NOTE');
    expect(codeOf(() => openNote(`${go.text}\n${go.enochSig}`, go.verifier))).toBe('ERR_UNVERIFIED_NOTE');
  });

  it("sumdb/note: a known key's signature that fails refuses the whole note", () => {
    const sig = go.peterSig;
    const broken = `${go.text}\n${sig.slice(0, 60)}ABCD${sig.slice(60)}`;
    expect(codeOf(() => openNote(broken, go.verifier))).toBe('ERR_INVALID_NOTE_SIGNATURE');
    // ...even when another known key's signature on it is good
    expect(codeOf(() => openNote(`${go.text}\n${go.enochSig}${sig.slice(0, 60)}ABCD${sig.slice(60)}`, [go.verifier, go.enochVerifier]))).toBe(
      'ERR_INVALID_NOTE_SIGNATURE',
    );
  });

  it('sumdb/note: duplicate signatures count once; unknown ones are ignored, even corrupt', () => {
    const enoch = go.enochSig;
    const note = `${go.text}\n${go.peterSig}${go.peterSig}${enoch}${enoch}${enoch.slice(0, 60)}ABCD${enoch.slice(60)}`;
    const opened = openNote(note, go.verifier);
    expect(opened.signatures).toHaveLength(1);
    expect(opened.unverified).toHaveLength(2);
  });

  it('sumdb/note: the malformed messages of TestOpen are ERR_INVALID_NOTE', () => {
    const bad = [
      go.text,
      `${go.text}\n`,
      `${go.text}\n${go.peterSig.slice(0, -1)}`,
      `\u0001${go.text}\n${go.peterSig}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${go.text}\n${go.peterSig}`)]),
      `${go.text}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${go.text}\n${go.peterSig}Unexpected line.\n`,
      `${go.text}\n${go.peterSig.repeat(101)}`,
    ];
    for (const note of bad) expect(codeOf(() => openNote(note, go.verifier))).toBe('ERR_INVALID_NOTE');
  });

  it('sumdb/note: the bad verifier keys of TestNewVerifier, and every truncation and one-byte change of the good ones, are refused', () => {
    for (const key of Object.keys(go.badVerifiers)) expect(codeOf(() => parseVerifierKey(key))).toBe('ERR_INVALID_ARG_VALUE');
    for (const good of [go.verifier, go.signer]) {
      const parse = good === go.signer ? parseSignerKey : parseVerifierKey;
      const bytes = Buffer.from(good);
      for (let i = 0; i <= bytes.length; i += 1) {
        for (let j = i + 1; j <= bytes.length; j += 1) {
          if (i === 0 && j === bytes.length) continue;
          expect(() => parse(bytes.subarray(i, j).toString())).toThrow(TypeError);
        }
      }
      for (let i = 0; i < bytes.length; i += 1) {
        const changed = Buffer.from(bytes);
        changed[i] = changed[i]! + 1;
        expect(() => parse(changed.toString('latin1'))).toThrow(TypeError);
      }
    }
  });

  it('c2sp.org/signed-note: the example verifier key verifies the example note', () => {
    const opened = openNote(c2sp.example.note, c2sp.example.verifier);
    expect(opened.text).toBe(c2sp.example.text);
    expect(opened.signatures[0]).toMatchObject({ name: 'example.com/foo', keyHash: 0x530d903a });
  });

  it('c2sp.org/signed-note: the text ends at the last blank line (the Quasimodo example has one inside)', () => {
    // No key is published for it: open it with another key, and read the text from the unverified error path.
    expect(codeOf(() => openNote(c2sp.quasimodo.note, c2sp.example.verifier))).toBe('ERR_UNVERIFIED_NOTE');
    const key = generateCheckpointKey('quasimodo.example/salvatore');
    const resigned = signNote(c2sp.quasimodo.text, key.signer);
    expect(openNote(resigned, key.verifier).text).toBe(c2sp.quasimodo.text);
  });
});

describe('keys generated here', () => {
  it('have the Go layout: name, 8 hex digits of SHA-256(name || 0x0A || 0x01 || key), base64(0x01 || key)', () => {
    const { signer, verifier } = generateCheckpointKey('example.com/audit');
    const [name, hash, key] = [verifier.slice(0, verifier.indexOf('+')), ...verifier.slice(verifier.indexOf('+') + 1).split(/\+(.*)/s)] as [string, string, string];
    expect(name).toBe('example.com/audit');
    const raw = Buffer.from(key, 'base64');
    expect(raw.length).toBe(33);
    expect(raw[0]).toBe(0x01);
    expect(hash).toBe(createHash('sha256').update('example.com/audit\n').update(raw).digest().subarray(0, 4).toString('hex'));
    expect(signer.startsWith(`PRIVATE+KEY+example.com/audit+${hash}+`)).toBe(true);
    const seed = Buffer.from(signer.slice(`PRIVATE+KEY+example.com/audit+${hash}+`.length), 'base64');
    expect(seed.length).toBe(33);
    expect(seed[0]).toBe(0x01);
    expect(verifierKeyOf(signer)).toBe(verifier);
  });

  it('sign notes that open, with the signature line in the Go form', () => {
    const { signer, verifier } = generateCheckpointKey('log.example/a');
    const note = signNote('hello\n', signer);
    expect(note).toMatch(/^hello\n\n\u2014 log\.example\/a [A-Za-z0-9+/]{91}=\n$/);
    const sig = Buffer.from(note.split(' ')[2]!.trim(), 'base64');
    expect(sig.length).toBe(68);
    expect(sig.readUInt32BE(0)).toBe(parseVerifierKey(verifier).keyHash);
    expect(signNote('hello\n', signer)).toBe(note); // Ed25519 is deterministic
    expect(openNote(note, verifier).signatures).toHaveLength(1);
  });

  it('extra signatures from unknown keys are kept as unverified and do not stop the note opening', () => {
    const log = generateCheckpointKey('log.example');
    const witness = generateCheckpointKey('witness.example');
    const note = signNote('a\nb\n', [log.signer, witness.signer]);
    const opened = openNote(note, log.verifier);
    expect(opened.signatures.map((sig) => sig.name)).toEqual(['log.example']);
    expect(opened.unverified.map((sig) => sig.name)).toEqual(['witness.example']);
    // a key with the known name but another key hash is unknown, not a failure
    const impostor = generateCheckpointKey('log.example');
    expect(codeOf(() => openNote(signNote('a\nb\n', impostor.signer), log.verifier))).toBe('ERR_UNVERIFIED_NOTE');
  });

  it('refuse bad names, as sumdb/note does', () => {
    for (const name of ['', 'a b', 'a+b', 'tab\there', 'nbsp\u00a0x', 'ideographic\u3000space']) {
      expect(codeOf(() => generateCheckpointKey(name))).toBe('ERR_INVALID_ARG_VALUE');
    }
    expect(codeOf(() => generateCheckpointKey(1 as never))).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('note text rules', () => {
  const key = generateCheckpointKey('rules.example');

  it('CRLF line endings and tabs are malformed, when opening and when signing', () => {
    const note = signNote('one\ntwo\n', key.signer);
    expect(codeOf(() => openNote(note.replace(/\n/g, '\r\n'), key.verifier))).toBe('ERR_INVALID_NOTE');
    expect(codeOf(() => openNote(note.replace('one', 'o\tne'), key.verifier))).toBe('ERR_INVALID_NOTE');
    expect(codeOf(() => signNote('one\r\n', key.signer))).toBe('ERR_INVALID_NOTE');
    expect(codeOf(() => signNote('a\tb\n', key.signer))).toBe('ERR_INVALID_NOTE');
    expect(codeOf(() => signNote('no newline', key.signer))).toBe('ERR_INVALID_NOTE');
    expect(codeOf(() => signNote('lone \ud800 surrogate\n', key.signer))).toBe('ERR_INVALID_NOTE');
  });

  it('a changed text is an invalid signature; bytes and strings open the same', () => {
    const note = signNote('size 1\n', key.signer);
    expect(codeOf(() => openNote(note.replace('1', '2'), key.verifier))).toBe('ERR_INVALID_NOTE_SIGNATURE');
    expect(openNote(Buffer.from(note), key.verifier).text).toBe('size 1\n');
  });

  it('a byte order mark is part of the text, not skipped', () => {
    const note = signNote('\ufeffbom\n', key.signer);
    expect(openNote(Buffer.from(note), key.verifier).text).toBe('\ufeffbom\n');
  });

  it('refuses keys that are not verifier keys, and two different keys with one name and key hash', () => {
    expect(codeOf(() => openNote(signNote('x\n', key.signer), 'nope'))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => openNote(signNote('x\n', key.signer), 7))).toBe('ERR_INVALID_ARG_TYPE');
    expect(openNote(signNote('x\n', key.signer), [key.verifier, key.verifier]).signatures).toHaveLength(1);
  });

  it('never echoes a signer key in its error', () => {
    const bad = `${key.signer}x`;
    try {
      signNote('x\n', bad);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(bad.split('+')[4]!);
    }
  });
});
