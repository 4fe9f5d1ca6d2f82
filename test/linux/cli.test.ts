// The command-line tool end to end: output, exit codes, and one-line errors.
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT, lsattr, removeTree, useAuditFile } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const audit = useAuditFile('');

function cli(args: string[], input?: string, dropCapability = false): SpawnSyncReturns<string> {
  const command = [process.execPath, CLI, ...args];
  const [program, ...rest] = dropCapability ? ['setpriv', '--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--', ...command] : command;
  return spawnSync(program!, rest, { encoding: 'utf8', input: input ?? '', timeout: 30_000 });
}

function expectOneLineError(result: SpawnSyncReturns<string>, pattern: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toMatch(/^fs-append-only: [^\n]+\n$/); // exactly one line, so no stack trace
}

const demoDirs = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('fs-append-only-demo-'));

describe('fs-append-only', () => {
  it('demo shows the overwrite refused, the log intact and a tampered copy caught, and cleans up', () => {
    const before = demoDirs();
    const result = cli(['demo']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('refused by the kernel: EPERM');
    expect(result.stdout).toContain('verifyLog: intact, 4 records');
    expect(result.stdout).toMatch(/line 3 \(seq 3\): hash-mismatch/);
    expect(result.stdout).toContain('Cleaned up.');
    expect(demoDirs()).toEqual(before);
  });

  // A file left append-only cannot be removed, not even by rm -rf as root, so an interrupted demo must
  // clear the flag itself. FS_APPEND_ONLY_DEMO_PAUSE_MS holds the demo while the file is protected.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('demo interrupted by %s while the file is protected clears the flag, removes its directory and exits %i', async (signal, code) => {
    const child = spawn(process.execPath, [CLI, 'demo'], {
      env: { ...process.env, FS_APPEND_ONLY_DEMO_PAUSE_MS: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    const exited = once(child, 'exit');
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('refused by the kernel')) resolve();
      });
      child.on('exit', () => reject(new Error(`demo ended before it paused: ${stdout}`)));
    });
    const file = /audit log: (\S+)/.exec(stdout)![1]!;
    try {
      expect(lsattr(file)).toContain('a');
      child.kill(signal);
      expect(await exited).toEqual([code, null]);
      expect(existsSync(dirname(file))).toBe(false);
    } finally {
      removeTree(dirname(file));
    }
  });

  it('info reports support as JSON, and exits 1 with the fix when the capability is missing', () => {
    const ok = cli(['info', '--json', '--path', tmpdir()]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ supported: true, method: 'ioctl', filesystem: 'ext4' });
    const missing = cli(['info'], undefined, true);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('supported     no');
    expect(missing.stdout).toContain('CAP_LINUX_IMMUTABLE');
  });

  it('protect, status, seal, unseal and unprotect a file', () => {
    writeFileSync(audit.file, 'x\n');
    expect(cli(['protect', audit.file]).stdout).toContain('append-only, not immutable (ext4)');
    expect(lsattr(audit.file)).toContain('a');
    expect(cli(['seal', audit.file]).stdout).toContain('append-only, immutable');
    expect(cli(['unseal', audit.file]).stdout).toContain('not immutable');
    expect(cli(['unprotect', audit.file]).stdout).toContain('not append-only');
    expect(cli(['status', audit.file]).status).toBe(0);
    expect(lsattr(audit.file)).not.toMatch(/[ai]/);
  });

  it('every kind of error is one line: missing file, usage, a FIFO, missing capability', () => {
    expectOneLineError(cli(['protect', join(audit.dir, 'missing')]), /^fs-append-only: ENOENT: no such file or directory/);
    expectOneLineError(cli(['status', join(audit.dir, 'missing'), '--json']), /^fs-append-only: ENOENT: /);
    expectOneLineError(cli([]), /a command is needed/);
    expectOneLineError(cli(['tail', audit.file, '-n', 'many']), /-n takes a whole number, not "many"/);
    const fifo = join(audit.dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expectOneLineError(cli(['protect', fifo]), /^fs-append-only: ENOTSUP: /);
    expectOneLineError(cli(['verify', fifo]), /^fs-append-only: ENOTSUP: a log must be a regular file/);
    writeFileSync(audit.file, 'x\n');
    expectOneLineError(cli(['protect', audit.file], undefined, true), /EPERM: .*CAP_LINUX_IMMUTABLE/);
  });

  it('without the addon: attribute errors are one line, and the log warns on one line', () => {
    // The package with its compiled facade but no addon, as after an install with neither a prebuilt
    // binary nor a compiler (as in portability.test.ts).
    const copy = join(audit.dir, 'pkg');
    mkdirSync(join(copy, 'node_modules'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules', 'node-gyp-build'), join(copy, 'node_modules', 'node-gyp-build'));
    const run = (args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [join(copy, 'dist', 'cli.js'), ...args], { encoding: 'utf8', timeout: 30_000 });
    writeFileSync(audit.file, 'x\n');
    expectOneLineError(run(['status', audit.file]), /^fs-append-only: ERR_ADDON_UNAVAILABLE: the native addon could not be loaded \(No native build was found/);
    expectOneLineError(run(['protect', audit.file]), /ERR_ADDON_UNAVAILABLE/);
    const appended = run(['append', join(audit.dir, 'new.log'), '{"ok":true}']);
    expect(appended.status).toBe(0);
    expect(appended.stderr).toMatch(/^fs-append-only: warning: [^\n]*no cross-process lock[^\n]*\n$/);
  });

  it('append one value or JSON lines from stdin, verify, tail and head', () => {
    expect(cli(['append', audit.file, '{"actor":"alice"}']).stdout).toMatch(/^1:[0-9a-f]{64}\n$/);
    const many = cli(['append', audit.file], '{"n":1}\n\n"two"\n[3]\n');
    expect(many.status).toBe(0);
    expect(many.stdout).toMatch(/^4:[0-9a-f]{64}\n$/);

    const verified = cli(['verify', audit.file]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^intact: 4 records, head 4:/);

    const tail = cli(['tail', audit.file, '-n', '2']).stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(tail.map((record) => record.data)).toEqual(['two', [3]]);
    expect(cli(['tail', audit.file, '-n', '0']).stdout).toBe('');

    const head = cli(['head', audit.file]).stdout.trim();
    expect(head).toBe(verified.stdout.match(/head (\d+:[0-9a-f]{64})/)![1]);
    expect(cli(['verify', audit.file, '--anchor', head]).status).toBe(0);
    const since = JSON.parse(cli(['head', audit.file, '--json']).stdout) as { seq: number; hash: string; offset: number };
    cli(['append', audit.file, '{"later":true}']);
    const incremental = JSON.parse(cli(['verify', audit.file, '--since', `${since.seq}:${since.hash}:${since.offset}`, '--json']).stdout);
    expect(incremental).toMatchObject({ status: 'intact', records: 1 });
  });

  it('tail prints the last records exactly as stored, read from the end, skipping lines that are not records', () => {
    const keyFile = join(audit.dir, 'k1.key');
    writeFileSync(keyFile, 'a secret of at least sixteen bytes\n');
    cli(['append', audit.file, '--key', `k1=${keyFile}`], Array.from({ length: 30 }, (_, i) => `{"n":${i + 1}}`).join('\n'));
    const records = readFileSync(audit.file, 'utf8').split('\n').filter((line) => line !== '');
    // Damage readLog skips: a foreign line between records, and an unterminated piece at the end.
    appendFileSync(audit.file, 'not a record\n');
    appendFileSync(audit.file, `${records[29]!.replace('"seq":30', '"seq":31')}\n{"seq":32,"ts":"2026`);

    const last = cli(['tail', audit.file, '-n', '3']);
    expect(last.status).toBe(0);
    const expected = [records[28], records[29], records[29]!.replace('"seq":30', '"seq":31')];
    expect(last.stdout).toBe(`${expected.join('\n')}\n`);
    expect(last.stdout).toContain('"sig":"');
    expect(cli(['tail', audit.file]).stdout.trim().split('\n')).toHaveLength(10);
    expect(cli(['tail', audit.file, '-n', '1000']).stdout.trim().split('\n')).toHaveLength(31);
  });

  it('tail into a reader that stops early (head, jq -e) is not an error', () => {
    cli(['append', audit.file], Array.from({ length: 5000 }, (_, i) => `{"n":${i}}`).join('\n'));
    // Far more than a pipe holds, so the tool is still writing when head closes the pipe.
    const errors = join(audit.dir, 'stderr.txt');
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" tail "${audit.file}" -n 5000 2>"${errors}" | head -c 1 >/dev/null`], { encoding: 'utf8', timeout: 30_000 });
    expect(piped.status).toBe(0);
    expect(readFileSync(errors, 'utf8')).toBe('');
  });

  it('signs with --key id=FILE and verifies with the keys', () => {
    const keyFile = join(audit.dir, 'k1.key');
    writeFileSync(keyFile, 'a secret of at least sixteen bytes\n');
    cli(['append', audit.file, '{"signed":true}', '--key', `k1=${keyFile}`]);
    expect(cli(['verify', audit.file, '--key', `k1=${keyFile}`]).status).toBe(0);
    const other = join(audit.dir, 'other.key');
    writeFileSync(other, 'another secret, sixteen bytes at least');
    const wrong = cli(['verify', audit.file, '--key', `k1=${other}`]);
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('bad-signature');
  });

  it('verify exits 1 on a tampered log and lists what changed', () => {
    cli(['append', audit.file], '{"actor":"alice"}\n{"actor":"bob"}\n');
    writeFileSync(audit.file, readFileSync(audit.file, 'utf8').replace('bob', 'eve'));
    const result = cli(['verify', audit.file]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^tampered: 2 records/);
    expect(result.stdout).toContain('line 2 (seq 2): hash-mismatch');
    expect(JSON.parse(cli(['verify', audit.file, '--json']).stdout)).toMatchObject({ status: 'tampered', tamperedEntries: 1 });
  });

  it('usage and I/O errors exit 2 with one line', () => {
    expectOneLineError(cli(['verify', join(audit.dir, 'missing.log')]), /ENOENT/);
    expectOneLineError(cli(['verify', audit.file, '--anchor', '3:nothex']), /--anchor takes SEQ:HASH/);
    expectOneLineError(cli(['append', audit.file, '{not json']), /the value is not JSON/);
    expectOneLineError(cli(['append', audit.file], '{"ok":1}\nnope\n'), /stdin line 2 is not JSON/);
    expectOneLineError(cli(['frobnicate']), /unknown command "frobnicate"/);
    expectOneLineError(cli(['verify', audit.file, '--wat']), /Unknown option '--wat'/);
    expectOneLineError(cli(['append', audit.file, '1', '--key', 'nokey']), /--key takes id=path-to-secret/);
    writeFileSync(join(audit.dir, 'text.log'), 'just text\n');
    expectOneLineError(cli(['append', join(audit.dir, 'text.log'), '1']), /ERR_NOT_A_LOG|not a log/);
    expect(cli([]).status).toBe(2);
    expect(cli(['--help']).status).toBe(0);
  });
});
