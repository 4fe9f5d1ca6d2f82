// verifyLog where no thread can be started (RLIMIT_NPROC reached): the native scanner's second thread
// fails to start, and verification must go on with one thread instead of ending the process.
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AppendOnlyLog } from '../../lib/index';
import { DIST, makeTempDir, removeTree } from './helpers';

// A uid of its own: RLIMIT_NPROC counts every task of the real uid on the machine, so a uid no other
// process uses makes the count exactly the child's threads. Root ignores the limit, hence not root.
const UID = '59123';
// More lines than the scanner's threshold for a second thread (kParallelLines in src/scan.cc).
const RECORDS = 1000;

// Starts libuv's pool first (an fs promise), so that its threads are already counted; then either
// prints the thread count (to set the limit to), or checks that no task can be created any more and
// verifies the log.
const CHILD = `
  const fs = require('node:fs');
  const { spawnSync } = require('node:child_process');
  const threads = () => Number(/Threads:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  const [mode, file, dist] = process.argv.slice(1);
  (async () => {
    await fs.promises.readFile(file);
    if (mode === 'count') return console.log(JSON.stringify({ threads: threads() }));
    const fork = spawnSync('/bin/true');
    const { verifyLog } = require(dist);
    const report = await verifyLog(file);
    console.log(JSON.stringify({ forkError: fork.error && fork.error.code, status: report.status, records: report.records }));
  })();`;

function runChild(mode: 'count' | 'verify', file: string, nproc?: number): ReturnType<typeof spawnSync> {
  const asUser = ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--'];
  const limit = nproc === undefined ? [] : ['prlimit', `--nproc=${nproc}`, '--'];
  const [command, ...args] = [...limit, ...asUser, process.execPath, '-e', CHILD, '--', mode, file, DIST];
  return spawnSync(command as string, args, { encoding: 'utf8', timeout: 60_000 });
}

describe('the native scanner under RLIMIT_NPROC', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = makeTempDir();
    chmodSync(dir, 0o755);
    file = join(dir, 'audit.log');
    const log = await AppendOnlyLog.open(file);
    for (let i = 0; i < RECORDS; i += 1) await log.append({ i });
    await log.close();
    chmodSync(file, 0o644);
  });
  afterAll(() => removeTree(dir));

  it('verifies a long log with one thread when a second cannot start, and exits 0', () => {
    const counted = runChild('count', file);
    expect(counted.stderr).toBe('');
    const { threads } = JSON.parse(String(counted.stdout)) as { threads: number };
    expect(threads).toBeGreaterThan(1);

    // Exactly the threads the child has once its pool runs: not one more task may start.
    const result = runChild('verify', file, threads);
    expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    // The limit really binds: even a fork is refused.
    expect(JSON.parse(String(result.stdout))).toEqual({ forkError: 'EAGAIN', status: 'intact', records: RECORDS });
  });
});
