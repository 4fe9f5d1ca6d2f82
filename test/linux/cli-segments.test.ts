// The command-line tool on a directory log: verify, tail and head read every segment; prune removes old ones after a prune record.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AppendOnlyLog, readLog } from '../../lib/index';
import { ROOT, lsattr, makeTempDir, removeTree } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
let dir = '';
let log = '';

function cli(args: string[], dropCapability = false): SpawnSyncReturns<string> {
  const command = [process.execPath, CLI, ...args];
  const [program, ...rest] = dropCapability ? ['setpriv', '--inh-caps=-linux_immutable', '--bounding-set=-linux_immutable', '--', ...command] : command;
  return spawnSync(program!, rest, { encoding: 'utf8', timeout: 30_000 });
}

beforeEach(async () => {
  dir = makeTempDir();
  log = join(dir, 'audit');
  const writer = await AppendOnlyLog.open(log, { rotate: { maxBytes: 1500 }, durability: 'none', protect: 'required' });
  for (let i = 1; i <= 30; i += 1) await writer.append({ i });
  await writer.close();
});
afterEach(() => removeTree(dir));

describe('fs-append-only on a directory log', () => {
  it('verify reads every segment as one chain, and names the file of a finding', () => {
    const ok = cli(['verify', log]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^intact: 34 records/);
    expect(ok.stdout).toMatch(/5 segments \(4 sealed\)/);

    const segments = readdirSync(log);
    spawnSync('chattr', ['-a', log]);
    spawnSync('chattr', ['-a', '-i', join(log, segments[2]!)]);
    expect(spawnSync('rm', [join(log, segments[2]!)]).status).toBe(0);
    const missing = cli(['verify', log, '--json']);
    expect(missing.status).toBe(1);
    const report = JSON.parse(missing.stdout);
    expect(report.tampered[0]).toMatchObject({ file: segments[1], reason: 'missing-segment' });
  });

  it('tail prints the last records across segments as stored, and head --json names the segment for --since', () => {
    const tail = cli(['tail', '-n', '3', log]);
    expect(tail.status).toBe(0);
    const lines = tail.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((record) => record.seq)).toEqual([32, 33, 34]);

    const head = JSON.parse(cli(['head', '--json', log]).stdout);
    expect(head).toMatchObject({ seq: 34, segment: readdirSync(log).sort().at(-1) });
    const since = cli(['verify', log, '--since', `${head.seq}:${head.hash}:${head.offset}:${head.segment}`]);
    expect(since.status).toBe(0);
    expect(since.stdout).toMatch(/^intact: 0 records, head 34:/);
  });

  it('prune removes sealed segments before a seq after a prune record; without the capability it says so and both states verify', async () => {
    const denied = cli(['prune', log, '--before', '15'], true);
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/^fs-append-only: EPERM.*CAP_LINUX_IMMUTABLE/);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(log)).toHaveLength(5);
    expect(cli(['verify', log]).status).toBe(0);

    const pruned = cli(['prune', log, '--before', '15']);
    expect(pruned.status).toBe(0);
    expect(pruned.stdout).toBe('removed 1 segment: 0000000000000001.jsonl\n');
    expect(readdirSync(log)).toHaveLength(4);
    expect(lsattr(log)).toContain('a');
    const after = cli(['verify', log, '--json']);
    expect(after.status).toBe(0);
    // The refused attempt's prune record and the one that removed the segment both name it.
    const named = { file: '0000000000000001.jsonl', firstSeq: 1, lastSeq: 8, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/) };
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'intact', startsMidChain: { seq: 9 }, pruned: [named, named] });
    const types = [];
    for await (const record of readLog(log)) types.push(record.type);
    expect(types.filter((type) => type === 'prune')).toHaveLength(2);
  });

  it('prune by date, and its usage errors', () => {
    expect(cli(['prune', log, '--before', '2000-01-01']).stdout).toBe('nothing to prune\n');
    expect(cli(['prune', log]).stderr).toMatch(/prune needs --before/);
    expect(cli(['prune', log, '--before', 'soon']).stderr).toMatch(/--before takes a seq or a date/);
    const file = join(dir, 'plain.log');
    writeFileSync(file, '');
    expect(cli(['prune', file, '--before', '3']).stderr).toMatch(/ENOTDIR/);
    expect(cli(['prune', log, '--before', `${new Date(Date.now() + 60_000).toISOString()}`]).stdout).toMatch(/^removed 4 segments/);
  });
});
