// The command-line tool on several files (one line and one exit status each), and the arguments and flags each command takes.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT, lsattr, useAuditFile } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const audit = useAuditFile('');

function cli(args: string[], input = ''): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 30_000 });
}

function files(...names: string[]): string[] {
  return names.map((name) => {
    const path = join(audit.dir, name);
    writeFileSync(path, 'x\n');
    return path;
  });
}

function expectUsageError(result: SpawnSyncReturns<string>, pattern: RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toMatch(/^fs-append-only: [^\n]*\(fs-append-only --help shows the usage\)\n$/);
}

describe('per-file commands take several files', () => {
  it('protect, status, seal, unseal and unprotect act on every file given, one line each', () => {
    const [a, b, c] = files('a.log', 'b.log', 'c.log');
    const protect = cli(['protect', a!, b!, c!]);
    expect(protect.status).toBe(0);
    expect(protect.stdout).toBe([a, b, c].map((file) => `${file}: append-only, not immutable (ext4)\n`).join(''));
    for (const file of [a!, b!, c!]) expect(lsattr(file)).toContain('a');
    expect(cli(['seal', a!, b!]).stdout.trim().split('\n')).toEqual([`${a}: append-only, immutable (ext4)`, `${b}: append-only, immutable (ext4)`]);
    expect(cli(['unseal', a!, b!]).status).toBe(0);
    expect(cli(['unprotect', a!, b!, c!]).status).toBe(0);
    for (const file of [a!, b!, c!]) expect(lsattr(file)).not.toMatch(/[ai]/);
    expect(cli(['status', a!, b!]).stdout.trim().split('\n')).toEqual([`${a}: not append-only, not immutable (ext4)`, `${b}: not append-only, not immutable (ext4)`]);
  });

  it('a failing file gets its own error line, the others are still done, and the exit status is 2', () => {
    const [a, b] = files('a.log', 'b.log');
    const missing = join(audit.dir, 'missing.log');
    const result = cli(['protect', a!, missing, b!]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe(`${a}: append-only, not immutable (ext4)\n${b}: append-only, not immutable (ext4)\n`);
    expect(result.stderr).toMatch(new RegExp(`^fs-append-only: ${missing}: ENOENT: [^\\n]*\\n$`));
    expect(lsattr(b!)).toContain('a');
  });

  it('status --json prints an object for one file and an array for several, errors included', () => {
    const [a, b] = files('a.log', 'b.log');
    cli(['protect', a!]);
    expect(JSON.parse(cli(['status', a!, '--json']).stdout)).toEqual({ file: a, appendOnly: true, immutable: false, flags: expect.any(Number), filesystem: 'ext4' });
    const missing = join(audit.dir, 'missing.log');
    const several = cli(['status', '--json', a!, b!, missing]);
    expect(several.status).toBe(2);
    expect(JSON.parse(several.stdout)).toEqual([
      { file: a, appendOnly: true, immutable: false, flags: expect.any(Number), filesystem: 'ext4' },
      { file: b, appendOnly: false, immutable: false, flags: expect.any(Number), filesystem: 'ext4' },
      { file: missing, error: { code: 'ENOENT', message: expect.stringContaining('ENOENT') } },
    ]);
    expect(several.stderr.split('\n')).toHaveLength(2);
  });

  it('verify checks every log, prefixes each line with its file, and exits with the worst status', () => {
    const [intact, tampered] = [join(audit.dir, 'intact.log'), join(audit.dir, 'tampered.log')];
    cli(['append', intact], '{"n":1}\n{"n":2}\n');
    cli(['append', tampered], '{"who":"bob"}\n');
    writeFileSync(tampered, readFileSync(tampered, 'utf8').replace('bob', 'eve'));

    const one = cli(['verify', intact]);
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^intact: 2 records/);

    const two = cli(['verify', intact, tampered]);
    expect(two.status).toBe(1);
    const lines = two.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${intact}: intact: 2 records`));
    expect(lines.filter((line) => line.startsWith(`${tampered}: `))).toContainEqual(expect.stringMatching(/^\S+: tampered: 1 records/));
    expect(lines.every((line) => line.startsWith(`${intact}: `) || line.startsWith(`${tampered}: `))).toBe(true);

    const missing = join(audit.dir, 'missing.log');
    const three = cli(['verify', tampered, missing, intact]);
    expect(three.status).toBe(2); // an I/O error outranks tampering
    expect(three.stdout).toContain(`${intact}: intact: 2 records`);
    expect(three.stderr).toMatch(new RegExp(`^fs-append-only: ${missing}: ENOENT[^\\n]*\\n$`));

    const json = cli(['verify', '--json', intact, tampered]);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ file: intact, status: 'intact', records: 2 }),
      expect.objectContaining({ file: tampered, status: 'tampered' }),
    ]);
  });
});

describe('arguments and flags', () => {
  it('extra arguments are usage errors where a command takes one file or none', () => {
    const [a, b] = files('a.log', 'b.log');
    expectUsageError(cli(['tail', a!, b!]), /tail takes one log, not also "/);
    expectUsageError(cli(['head', a!, b!]), /head takes one log, not also "/);
    expectUsageError(cli(['append', a!, '1', '2']), /append takes a log and one value, not also "2"/);
    expectUsageError(cli(['info', a!]), /info takes no arguments/);
    expectUsageError(cli(['demo', 'now']), /demo takes no arguments/);
    expectUsageError(cli(['protect']), /protect needs a file/);
    expectUsageError(cli(['verify']), /verify needs a log/);
  });

  it('a flag the command does not take is a usage error, never ignored', () => {
    const [a] = files('a.log');
    expectUsageError(cli(['protect', a!, '--json']), /protect does not take --json/);
    expectUsageError(cli(['tail', a!, '--key', 'k=x']), /tail does not take --key/);
    expectUsageError(cli(['head', a!, '-n', '3']), /head does not take -n/);
    expectUsageError(cli(['status', a!, '--since', '1:x']), /status does not take --since/);
    expectUsageError(cli(['info', '--anchor', '1:x']), /info does not take --anchor/);
    expect(lsattr(a!)).not.toContain('a');
  });

  it('a flag that takes one value may not be given twice', () => {
    const log = join(audit.dir, 'k.log');
    const keyFile = join(audit.dir, 'k.key');
    writeFileSync(keyFile, 'a secret of at least sixteen bytes');
    expectUsageError(cli(['append', log, '1', '--key', `k1=${keyFile}`, '--key', `k2=${keyFile}`]), /--key may be given only once/);
    const head = `1:${'0'.repeat(64)}`;
    expectUsageError(cli(['verify', log, '--anchor', head, '--anchor', head]), /--anchor may be given only once/);
    expectUsageError(cli(['tail', log, '-n', '1', '-n', '2']), /-n may be given only once/);
    expectUsageError(cli(['verify', log, log, '--anchor', head]), /--anchor names a record of one log/);
  });

  it('--version prints the package version', () => {
    const result = cli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });
});
