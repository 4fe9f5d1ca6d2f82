// The command-line tool end to end: output, exit codes, and one-line errors.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT, lsattr, useAuditFile } from './helpers';

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
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
}

describe('fs-append-only', () => {
  it('demo shows the overwrite refused, the log intact and a tampered copy caught, and cleans up', () => {
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('fs-append-only-demo-'));
    const result = cli(['demo']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('refused by the kernel: EPERM');
    expect(result.stdout).toContain('verifyLog: intact, 4 records');
    expect(result.stdout).toMatch(/line 3 \(seq 3\): hash-mismatch/);
    expect(result.stdout).toContain('Cleaned up.');
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith('fs-append-only-demo-'))).toEqual(before);
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

  it('attribute errors are one line: missing file, missing capability', () => {
    expectOneLineError(cli(['protect', join(audit.dir, 'missing')]), /^fs-append-only: ENOENT: no such file or directory/);
    writeFileSync(audit.file, 'x\n');
    expectOneLineError(cli(['protect', audit.file], undefined, true), /EPERM: .*CAP_LINUX_IMMUTABLE/);
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

    const head = cli(['head', audit.file]).stdout.trim();
    expect(head).toBe(verified.stdout.match(/head (\d+:[0-9a-f]{64})/)![1]);
    expect(cli(['verify', audit.file, '--anchor', head]).status).toBe(0);
    const since = JSON.parse(cli(['head', audit.file, '--json']).stdout) as { seq: number; hash: string; offset: number };
    cli(['append', audit.file, '{"later":true}']);
    const incremental = JSON.parse(cli(['verify', audit.file, '--since', `${since.seq}:${since.hash}:${since.offset}`, '--json']).stdout);
    expect(incremental).toMatchObject({ status: 'intact', records: 1 });
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
