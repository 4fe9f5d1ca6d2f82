// The command-line tool's checkpoints: keygen, checkpoint, prove, check-proof, and verify with checkpoint keys.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AppendOnlyLog, type LogRecord, generateCheckpointKey, openCheckpoint, parseProof, readLog } from '../../lib/index';
import { parseSignerKey, parseVerifierKey, verifierKeyOf } from '../../lib/checkpoint/note';
import { GENESIS, encodeRecord } from '../../lib/log/format';
import { ROOT, makeTempDir, removeTree } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const NAME = 'example.org/audit';
let dir = '';

function cli(args: string[], options: { input?: string; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: options.input ?? '', cwd: options.cwd ?? dir, timeout: 30_000 });
}

function expectOneLineError(result: SpawnSyncReturns<string>, pattern: RegExp): void {
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toMatch(/^fs-append-only: [^\n]+\n$/);
  expect(result.status).toBe(2);
}

async function records(path: string): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of readLog(path)) all.push(record);
  return all;
}

/** A log of `count` data records, written by the library. */
async function writeLog(path: string, count: number, options: { rotate?: { maxBytes: number } } = {}): Promise<void> {
  const log = await AppendOnlyLog.open(path, { durability: 'none', ...options });
  for (let i = 1; i <= count; i += 1) await log.append({ amount: i });
  await log.close();
}

/** keygen in the test directory: the signer's file and the verifier it printed. */
function keygen(name = NAME): { file: string; signer: string; verifier: string } {
  const result = cli(['keygen', name]);
  expect(result.status).toBe(0);
  const file = join(dir, `${name.replaceAll('/', '-')}.key`);
  return { file, signer: readFileSync(file, 'utf8').trimEnd(), verifier: result.stdout.trim() };
}

/** Whoever can rewrite the file edits record `seq` and recomputes every hash after it. */
function rebuildChain(path: string, seq: number): void {
  spawnSync('chattr', ['-a', path]);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  let prev = GENESIS;
  let text = '';
  for (const record of lines) {
    const data = record.seq === seq ? { amount: 1000 } : record.data;
    const { line, hash } = encodeRecord({ seq: record.seq, ts: record.ts, prev, type: record.type ?? 'data', keyId: null, dataJson: JSON.stringify(data) }, null);
    text += line;
    prev = hash;
  }
  writeFileSync(path, text);
}

beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeTree(dir));

describe('fs-append-only keygen', () => {
  it('writes the signer to ./<name>.key with mode 0600, whatever the umask, and prints the verifier', () => {
    // umask 000 would leave a file created without an explicit mode readable by everyone.
    const result = spawnSync('sh', ['-c', `umask 000 && exec "${process.execPath}" "${CLI}" keygen ${NAME}`], { encoding: 'utf8', cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const file = join(dir, 'example.org-audit.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^PRIVATE\+KEY\+example\.org\/audit\+[0-9a-f]{8}\+\S+\n$/);
    const signer = parseSignerKey(text.trimEnd());
    expect(signer.name).toBe(NAME);

    const verifier = result.stdout.trim();
    expect(result.stdout).toBe(`${verifier}\n`);
    expect(parseVerifierKey(verifier)).toMatchObject({ name: NAME });
    expect(verifier).toBe(verifierKeyOf(text.trimEnd()));

    // A umask that takes the owner's write bit still leaves a key file of mode 0600.
    const strict = spawnSync('sh', ['-c', `umask 277 && exec "${process.execPath}" "${CLI}" keygen other --out strict.key`], { encoding: 'utf8', cwd: dir });
    expect(strict.status).toBe(0);
    expect(statSync(join(dir, 'strict.key')).mode & 0o777).toBe(0o600);
  });

  it('never overwrites an existing file, default or --out, and a bad name is a usage error', () => {
    const first = keygen();
    const again = cli(['keygen', NAME]);
    expectOneLineError(again, /EEXIST: example\.org-audit\.key exists/);
    expect(again.stdout).toBe('');
    expect(readFileSync(first.file, 'utf8').trimEnd()).toBe(first.signer);

    const out = join(dir, 'elsewhere.key');
    writeFileSync(out, 'precious\n');
    expectOneLineError(cli(['keygen', 'other', '--out', out]), /EEXIST/);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');

    const fresh = join(dir, 'fresh.key');
    const made = cli(['keygen', 'other', '--out', fresh]);
    expect(made.status).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    expect(verifierKeyOf(readFileSync(fresh, 'utf8').trimEnd())).toBe(made.stdout.trim());

    expectOneLineError(cli(['keygen', 'a b']), /a key name must be non-empty, with no spaces and no '\+'/);
    expectOneLineError(cli(['keygen', 'a+b']), /a key name must be/);
    expectOneLineError(cli(['keygen']), /keygen needs a key name/);
  });
});

describe('fs-append-only checkpoint', () => {
  it('appends a checkpoint record to a file log and prints its note, which opens with the verifier', async () => {
    const { file, verifier } = keygen();
    const log = join(dir, 'audit.log');
    await writeLog(log, 7);
    const result = cli(['checkpoint', log, '--signer', file]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const opened = openCheckpoint(result.stdout, [verifier]);
    expect(opened).toMatchObject({ origin: NAME, size: 7 });
    const last = (await records(log)).at(-1)!;
    expect(last).toMatchObject({ seq: 8, type: 'checkpoint', data: { note: result.stdout } });
    expect(() => openCheckpoint(result.stdout, [generateCheckpointKey(NAME).verifier])).toThrow();
  });

  it('works on a directory log, and on a signer file without a trailing newline', async () => {
    const { signer, verifier } = keygen();
    const bare = join(dir, 'bare.key');
    writeFileSync(bare, signer);
    const log = join(dir, 'segmented');
    await writeLog(log, 30, { rotate: { maxBytes: 1500 } });
    const before = (await records(log)).length;
    const result = cli(['checkpoint', log, '--signer', bare]);
    expect(result.status).toBe(0);
    expect(openCheckpoint(result.stdout, [verifier]).size).toBe(before);
    expect((await records(log)).at(-1)).toMatchObject({ type: 'checkpoint', data: { note: result.stdout } });
  });

  it('needs a signer key in --signer, and never echoes what the file holds', async () => {
    const log = join(dir, 'audit.log');
    await writeLog(log, 2);
    expectOneLineError(cli(['checkpoint', log]), /checkpoint needs --signer FILE/);
    const wrong = join(dir, 'wrong.key');
    writeFileSync(wrong, 'PRIVATE+KEY+broken+secretmaterial\n');
    const result = cli(['checkpoint', log, '--signer', wrong]);
    expectOneLineError(result, /--signer .*wrong\.key does not hold a signer key/);
    expect(result.stderr).not.toContain('secretmaterial');
    expectOneLineError(cli(['checkpoint', log, '--signer', join(dir, 'missing.key')]), /ENOENT/);
    expect((await records(log)).map((record) => record.type)).toEqual(['data', 'data']);
  });
});

describe('fs-append-only prove and check-proof', () => {
  let key: { file: string; signer: string; verifier: string };
  let log = '';
  let hashes: string[] = [];

  beforeEach(async () => {
    key = keygen();
    log = join(dir, 'audit.log');
    await writeLog(log, 7);
    expect(cli(['checkpoint', log, '--signer', key.file]).status).toBe(0);
    hashes = (await records(log)).map((record) => record.hash);
  });

  it('a proof of every record checks with its hash and the verifier, from a file and from stdin', () => {
    const note = (JSON.parse(readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)!) as { data: { note: string } }).data.note;
    for (let seq = 1; seq <= 7; seq += 1) {
      const proof = cli(['prove', log, String(seq)]);
      expect(proof.stderr).toBe('');
      expect(proof.status).toBe(0);
      const parsed = parseProof(proof.stdout);
      expect(parsed).toMatchObject({ index: seq - 1, checkpoint: note });
      const file = join(dir, `proof-${seq}`);
      writeFileSync(file, proof.stdout);
      const checked = cli(['check-proof', file, '--vkey', key.verifier, '--hash', hashes[seq - 1]!]);
      expect(checked.stdout).toMatch(new RegExp(`^ok: record ${seq} is in the tree of 7 records`));
      expect(checked.status).toBe(0);
      const piped = cli(['check-proof', '-', '--vkey', key.verifier, '--hash', hashes[seq - 1]!], { input: proof.stdout });
      expect(piped.status).toBe(0);
    }
  });

  it('fails with status 1 for another record hash, another key, or an edited proof', () => {
    const proof = cli(['prove', log, '3']).stdout;
    const file = join(dir, 'proof');
    writeFileSync(file, proof);

    const otherHash = cli(['check-proof', file, '--vkey', key.verifier, '--hash', hashes[3]!]);
    expect(otherHash.stdout).toMatch(/^invalid-proof: /);
    expect(otherHash.status).toBe(1);

    const stranger = generateCheckpointKey(NAME).verifier;
    const otherKey = cli(['check-proof', file, '--vkey', stranger, '--hash', hashes[2]!]);
    expect(otherKey.stdout).toMatch(/^unverified-note: /);
    expect(otherKey.status).toBe(1);

    // One hash of the path replaced by another.
    const lines = proof.split('\n');
    lines[2] = Buffer.from(hashes[0]!, 'hex').toString('base64');
    const edited = cli(['check-proof', '-', '--vkey', key.verifier, '--hash', hashes[2]!], { input: lines.join('\n') });
    expect(edited.stdout).toMatch(/^invalid-proof: /);
    expect(edited.status).toBe(1);

    const garbage = cli(['check-proof', '-', '--vkey', key.verifier, '--hash', hashes[2]!], { input: 'not a proof\n\nat all\n' });
    expect(garbage.stdout).toMatch(/^not a proof: /);
    expect(garbage.status).toBe(1);
  });

  it('proves against the latest checkpoint that covers the record, or the one --size names', async () => {
    const writer = await AppendOnlyLog.open(log, { durability: 'none', checkpoints: { signer: key.signer } });
    await writer.append({ amount: 8 });
    const second = await writer.checkpoint(); // records 1-7, the first checkpoint record, and one more
    await writer.append({ amount: 9 });
    await writer.close();
    expect(second.size).toBe(9);
    hashes = (await records(log)).map((record) => record.hash);

    expect(parseProof(cli(['prove', log, '2']).stdout).checkpoint).toBe(second.note);
    expect(parseProof(cli(['prove', log, '9']).stdout).checkpoint).toBe(second.note);
    const older = cli(['prove', log, '2', '--size', '7']);
    expect(older.status).toBe(0);
    expect(parseProof(older.stdout).checkpoint).not.toBe(second.note);
    expect(cli(['check-proof', '-', '--vkey', key.verifier, '--hash', hashes[1]!], { input: older.stdout }).status).toBe(0);
    // The record after the last checkpoint is in no checkpointed tree yet.
    expectOneLineError(cli(['prove', log, '11']), /holds no checkpoint record that covers record 11/);
    expectOneLineError(cli(['prove', log, '2', '--size', '5']), /holds no checkpoint record of 5 records/);
    expectOneLineError(cli(['prove', log, '8', '--size', '7']), /record 8 is not in a tree of 7 records/);
  });

  it('refuses to prove from a log whose records are no longer the tree its checkpoint signs', () => {
    rebuildChain(log, 3);
    expectOneLineError(cli(['prove', log, '5']), /the first 7 records of .* are not the tree its checkpoint record signs/);
  });

  it('a directory log without a checkpoint has nothing to prove against, and usage errors are one line', async () => {
    const segmented = join(dir, 'segmented');
    await writeLog(segmented, 10, { rotate: { maxBytes: 1500 } });
    expectOneLineError(cli(['prove', segmented, '1']), /holds no checkpoint record that covers record 1/);
    expectOneLineError(cli(['prove', log]), /prove needs a log and a seq/);
    expectOneLineError(cli(['prove', log, '0']), /seq is a whole number of at least 1, not "0"/);
    expectOneLineError(cli(['prove', log, '1', '2']), /prove takes a log and one seq, not also "2"/);
    expectOneLineError(cli(['prove', log, '1', '--size', 'x']), /--size's N is a whole number/);
    expectOneLineError(cli(['prove', log, '1', '--vkey', key.verifier]), /prove does not take --vkey/);

    const proof = join(dir, 'proof');
    writeFileSync(proof, cli(['prove', log, '1']).stdout);
    const hash = hashes[0]!;
    expectOneLineError(cli(['check-proof', proof, '--hash', hash]), /check-proof needs --vkey KEY/);
    expectOneLineError(cli(['check-proof', proof, '--vkey', key.verifier]), /check-proof needs --hash HEX/);
    expectOneLineError(cli(['check-proof', proof, '--vkey', key.verifier, '--hash', 'abc']), /--hash takes a record's hash \(64 hex digits\)/);
    expectOneLineError(cli(['check-proof', proof, '--vkey', 'nonsense', '--hash', hash]), /--vkey takes a verifier key/);
    const secret = cli(['check-proof', proof, '--vkey', key.signer, '--hash', hash]);
    expectOneLineError(secret, /--vkey is given a signer key/);
    expect(secret.stderr).not.toContain(signerSecret(key.signer));
    expectOneLineError(cli(['check-proof', proof, 'more', '--vkey', key.verifier, '--hash', hash]), /check-proof takes one proof file, not also "more"/);
    expectOneLineError(cli(['check-proof', join(dir, 'missing'), '--vkey', key.verifier, '--hash', hash]), /ENOENT/);
    expectOneLineError(cli(['check-proof', proof, '--vkey', key.verifier, '--hash', hash, '--size', '3']), /check-proof does not take --size/);
    // --vkey @FILE reads the key from a file.
    const pub = join(dir, 'audit.pub');
    writeFileSync(pub, `${key.verifier}\n`);
    expect(cli(['check-proof', proof, '--vkey', `@${pub}`, '--hash', hash]).status).toBe(0);
  });
});

describe('fs-append-only verify with checkpoint keys', () => {
  let key: { file: string; signer: string; verifier: string };
  let log = '';
  let kept = '';

  beforeEach(async () => {
    key = keygen();
    log = join(dir, 'audit.log');
    await writeLog(log, 10);
    const note = cli(['checkpoint', log, '--signer', key.file]);
    expect(note.status).toBe(0);
    kept = join(dir, 'kept.note');
    writeFileSync(kept, note.stdout);
  });

  it('--checkpoint-key checks the checkpoint records and names the last good one', () => {
    const result = cli(['verify', log, '--checkpoint-key', key.verifier]);
    expect(result.stdout).toMatch(/^intact: 11 records/);
    expect(result.stdout).toMatch(/^last good checkpoint: seq 11, 10 records, root [A-Za-z0-9+/]{43}=$/m);
    expect(result.status).toBe(0);

    const pub = join(dir, 'keys');
    writeFileSync(pub, `${generateCheckpointKey('other.example/log').verifier}\n${key.verifier}\n`);
    expect(cli(['verify', log, '--checkpoint-key', `@${pub}`]).stdout).toMatch(/last good checkpoint: seq 11/);

    // A key that did not sign the checkpoint: its record is a bad checkpoint.
    const stranger = cli(['verify', log, '--checkpoint-key', generateCheckpointKey(NAME).verifier]);
    expect(stranger.stdout).toMatch(/^tampered: /);
    expect(stranger.stdout).toMatch(/\(seq 11\): bad-checkpoint/);
    expect(stranger.stdout).toMatch(/^no checkpoint record verified$/m);
    expect(stranger.status).toBe(1);

    const json = JSON.parse(cli(['verify', log, '--json', '--checkpoint-key', key.verifier]).stdout);
    expect(json).toMatchObject({ status: 'intact', checkpoint: { seq: 11, size: 10 } });
  });

  it('--checkpoint with a note kept elsewhere: 0 on the intact log, 1 on a rebuilt chain', () => {
    const intact = cli(['verify', log, '--checkpoint-key', key.verifier, '--checkpoint', kept]);
    expect(intact.stdout).toMatch(/checkpoint .*kept\.note: ok, the log's first 10 records are its tree/);
    expect(intact.status).toBe(0);

    rebuildChain(log, 3);
    // The chain alone is consistent again: only the kept note catches the rewrite.
    expect(cli(['verify', log]).status).toBe(0);
    const rebuilt = cli(['verify', log, '--checkpoint-key', key.verifier, '--checkpoint', kept]);
    expect(rebuilt.stdout).toMatch(/checkpoint .*kept\.note: root-mismatch: /);
    expect(rebuilt.status).toBe(1);
    const json = JSON.parse(cli(['verify', log, '--json', '--checkpoint-key', key.verifier, '--checkpoint', kept]).stdout);
    expect(json.keptCheckpoint).toMatchObject({ ok: false, reason: 'root-mismatch', size: 10 });
  });

  it('--checkpoint fails with status 1 for a note another key signed, or a log cut short', () => {
    const other = generateCheckpointKey(NAME);
    const otherPub = cli(['verify', log, '--checkpoint-key', other.verifier, '--checkpoint', kept]);
    expect(otherPub.stdout).toMatch(/kept\.note: unverified-note: /);
    expect(otherPub.status).toBe(1);

    spawnSync('chattr', ['-a', log]);
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, `${lines.slice(0, 6).join('\n')}\n`);
    const cut = cli(['verify', log, '--checkpoint-key', key.verifier, '--checkpoint', kept]);
    expect(cut.stdout).toMatch(/kept\.note: truncated: /);
    expect(cut.status).toBe(1);
  });

  it('usage errors: --checkpoint needs a key, names one log file, and keys must be verifier keys', async () => {
    expectOneLineError(cli(['verify', log, '--checkpoint', kept]), /--checkpoint needs at least one --checkpoint-key/);
    expectOneLineError(cli(['verify', log, log, '--checkpoint-key', key.verifier, '--checkpoint', kept]), /--checkpoint names a tree of one log: give one file with it/);
    expectOneLineError(cli(['verify', log, '--checkpoint-key', 'nonsense']), /--checkpoint-key takes a verifier key/);
    const secret = cli(['verify', log, '--checkpoint-key', `@${key.file}`]);
    expectOneLineError(secret, /--checkpoint-key @.* is given a signer key/);
    expect(secret.stderr).not.toContain(signerSecret(key.signer));
    expectOneLineError(cli(['verify', log, '--checkpoint-key', key.verifier, '--checkpoint', kept, '--checkpoint', kept]), /--checkpoint may be given only once/);
    expectOneLineError(cli(['verify', log, '--checkpoint-key', key.verifier, '--checkpoint', join(dir, 'missing.note')]), /ENOENT/);
    const segmented = join(dir, 'segmented');
    await writeLog(segmented, 10, { rotate: { maxBytes: 1500 } });
    // Another log's note: the directory log does not hold that tree.
    expect(cli(['verify', segmented, '--checkpoint-key', key.verifier, '--checkpoint', kept]).status).toBe(1);
    expect(cli(['verify', segmented, '--checkpoint-key', key.verifier]).stdout).toMatch(/^no checkpoint record verified$/m);
    expectOneLineError(cli(['tail', log, '--checkpoint-key', key.verifier]), /tail does not take --checkpoint-key/);
    expectOneLineError(cli(['keygen', 'x', '--signer', key.file]), /keygen does not take --signer/);
    const help = cli(['--help']).stdout;
    for (const usage of ['keygen <name> [--out FILE]', 'checkpoint <log> --signer FILE', 'prove <log> <seq> [--size N]', 'check-proof <file>|- --vkey KEY... --hash HEX', '[--checkpoint-key KEY]... [--checkpoint FILE]']) {
      expect(help).toContain(usage);
    }
  });
});

// The key material of a signer key, PRIVATE+KEY+<name>+<hash>+<base64>: its base64 may hold '+' itself (and
// end with one), so it is everything after the fourth '+', never an empty piece.
function signerSecret(signer: string): string {
  const secret = signer.split('+').slice(4).join('+');
  expect(secret.length).toBeGreaterThan(40);
  return secret;
}
