// fs-append-only append from stdin: appends in group commits, and says exactly which lines reached the log when one fails.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { MAX_DATA_BYTES } from '../../lib/index';
import { ROOT, useAuditFile } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const audit = useAuditFile('');

function cli(args: string[], input = ''): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
}

function storedData(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { data: unknown }).data);
}

function expectFailure(result: SpawnSyncReturns<string>, message: string | RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.split('\n')).toHaveLength(2); // one line
  if (typeof message === 'string') expect(result.stderr).toBe(`fs-append-only: ${message}\n`);
  else expect(result.stderr).toMatch(message);
}

describe('append from stdin', () => {
  it('stops at a line that is not JSON and names the lines and seqs that were appended', () => {
    const values = Array.from({ length: 11 }, (_, i) => `{"before":${i + 1}}`).join('\n');
    expect(cli(['append', audit.file], `${values}\n`).stdout).toMatch(/^11:/);
    const result = cli(['append', audit.file], '1\n2\n3\n4\n5\n6\n{oops\n8\n');
    expectFailure(result, /^fs-append-only: stdin line 7 is not JSON: [^\n]+; lines 1 to 6 were appended \(seq 12 to 17\)\n$/);
    expect(storedData(audit.file).slice(11)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('blank lines are skipped and not counted as appended', () => {
    const result = cli(['append', audit.file], '\n"a"\n\n"b"\n  \n"c"\nnope\n"d"\n');
    expectFailure(result, /stdin line 7 is not JSON: [^\n]+; the 3 non-empty lines of lines 2 to 6 were appended \(seq 1 to 3\)\n$/);
    expect(storedData(audit.file)).toEqual(['a', 'b', 'c']);
  });

  it('says so when nothing, or one line, was appended', () => {
    expectFailure(cli(['append', audit.file], '\nnot json\n1\n'), /stdin line 2 is not JSON: [^\n]+; nothing was appended\n$/);
    expectFailure(cli(['append', audit.file], '"one"\n[\n'), /stdin line 2 is not JSON: [^\n]+; line 1 was appended \(seq 1\)\n$/);
    expect(storedData(audit.file)).toEqual(['one']);
  });

  it('a value too large for a record stops there: the lines after it are not appended', () => {
    const huge = JSON.stringify('x'.repeat(MAX_DATA_BYTES));
    const result = cli(['append', audit.file], `1\n2\n${huge}\n4\n5\n`);
    expectFailure(result, /^fs-append-only: stdin line 3 could not be appended: The "data" argument is \d+ bytes as JSON[^\n]*; lines 1 to 2 were appended \(seq 1 to 2\)\n$/);
    expect(storedData(audit.file)).toEqual([1, 2]);
  });

  it('appends 10,000 lines, all of them in order, and prints the one head', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ n: i + 1 }));
    const result = cli(['append', audit.file], `${lines.join('\n')}\n`);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^10000:[0-9a-f]{64}\n$/);
    expect(storedData(audit.file)).toEqual(lines.map((line) => JSON.parse(line)));
    expect(cli(['verify', audit.file]).stdout).toMatch(/^intact: 10000 records/);
  });

  // The appends of one event-loop turn share one write and one fdatasync. Awaiting each line would cost
  // one fdatasync per line: strace counts them (it is the only way to see the syscalls from outside).
  const hasStrace = spawnSync('strace', ['-V']).status === 0;
  it.runIf(hasStrace)('commits 10,000 lines with far fewer fdatasync calls than lines (strace)', () => {
    const summary = join(audit.dir, 'strace.txt');
    const input = `${Array.from({ length: 10_000 }, (_, i) => `{"n":${i}}`).join('\n')}\n`;
    const result = spawnSync('strace', ['-f', '-c', '-e', 'trace=fdatasync', '-o', summary, process.execPath, CLI, 'append', audit.file], {
      encoding: 'utf8',
      input,
      timeout: 120_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^10000:/);
    // strace -c: "% time  seconds  usecs/call  calls  errors  syscall"; no row when there was no call.
    const row = readFileSync(summary, 'utf8')
      .split('\n')
      .find((line) => /\sfdatasync$/.test(line));
    const calls = row === undefined ? 0 : Number(row.trim().split(/\s+/)[3]);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(100);
  });
});
