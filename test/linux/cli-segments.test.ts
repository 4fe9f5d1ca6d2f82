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
    expect(ok.stdout).toMatch(new RegExp(`^intact: ${30 + readdirSync(log).length - 1} records`));
    const count = readdirSync(log).length;
    expect(ok.stdout).toContain(`${count} segments (${count - 1} sealed)`);

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
    const last = 30 + readdirSync(log).length - 1; // 30 records and a seal per sealed segment
    expect(lines.map((record) => record.seq)).toEqual([last - 2, last - 1, last]);

    const head = JSON.parse(cli(['head', '--json', log]).stdout);
    expect(head).toMatchObject({ seq: last, segment: readdirSync(log).sort().at(-1) });
    const since = cli(['verify', log, '--since', `${head.seq}:${head.hash}:${head.offset}:${head.segment}`]);
    expect(since.status).toBe(0);
    expect(since.stdout).toMatch(new RegExp(`^intact: 0 records, head ${last}:`));
  });

  it('prune removes sealed segments before a seq after a prune record; without the capability it says so and both states verify', async () => {
    // The segments wholly before seq 15 are the ones to go.
    const layout = JSON.parse(cli(['verify', log, '--json']).stdout) as { segments: { file: string; firstSeq: number; lastSeq: number }[] };
    const doomed = layout.segments.filter((segment) => segment.lastSeq < 15);
    const count = layout.segments.length;
    expect(doomed.length).toBeGreaterThan(0);
    const denied = cli(['prune', log, '--before', '15'], true);
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/^fs-append-only: EPERM.*CAP_LINUX_IMMUTABLE/);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(log)).toHaveLength(count);
    expect(cli(['verify', log]).status).toBe(0);

    const pruned = cli(['prune', log, '--before', '15']);
    expect(pruned.status).toBe(0);
    expect(pruned.stdout).toBe(`removed ${doomed.length} segment${doomed.length === 1 ? '' : 's'}: ${doomed.map((segment) => segment.file).join(' ')}\n`);
    expect(readdirSync(log)).toHaveLength(count - doomed.length);
    expect(lsattr(log)).toContain('a');
    const after = cli(['verify', log, '--json']);
    expect(after.status).toBe(0);
    // The refused attempt's prune record and the one that removed the segment both name it.
    const named = doomed.map(({ file, firstSeq, lastSeq }) => ({ file, firstSeq, lastSeq, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/) }));
    const first = doomed.at(-1)!.lastSeq + 1;
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'intact', startsMidChain: { seq: first }, pruned: [...named, ...named] });
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
    const sealed = readdirSync(log).length - 1;
    expect(cli(['prune', log, '--before', `${new Date(Date.now() + 60_000).toISOString()}`]).stdout).toMatch(new RegExp(`^removed ${sealed} segments`));
  });
});
