// The CLI's progress bar: shown on a terminal for a log over 64 MB, never when stderr is a pipe.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { GENESIS, encodeRecord } from '../../lib/log/format';
import { ROOT, useAuditFile } from '../linux/helpers';

const audit = useAuditFile('');
const CLI = join(ROOT, 'dist', 'cli.js');

// A valid 70 MB log, written directly with the encoder.
function writeLargeLog(path: string): void {
  const fd = openSync(path, 'w');
  let prev = GENESIS;
  let batch = '';
  const pad = 'x'.repeat(900);
  for (let seq = 1; seq <= 70_000; seq += 1) {
    const { line, hash } = encodeRecord({ seq, ts: '2026-11-22T10:00:00.000Z', prev, type: 'data', keyId: null, dataJson: `{"n":${seq},"pad":"${pad}"}` }, null);
    batch += line;
    prev = hash;
    if (batch.length > 1 << 20) {
      writeSync(fd, batch);
      batch = '';
    }
  }
  writeSync(fd, batch);
  closeSync(fd);
}

it('verify draws a progress bar on a terminal, and none through a pipe', () => {
  writeLargeLog(audit.file);
  // script(1) gives the CLI a pseudo-terminal for stdin, stdout and stderr.
  const onTerminal = spawnSync('script', ['-qec', `${process.execPath} ${CLI} verify ${audit.file}`, '/dev/null'], { encoding: 'utf8' });
  expect(onTerminal.status).toBe(0);
  expect(onTerminal.stdout).toMatch(/verifying \[#+ *\] 100% of \d+ MB/);
  expect(onTerminal.stdout).toContain('intact: 70000 records');

  const piped = spawnSync(process.execPath, [CLI, 'verify', audit.file], { encoding: 'utf8' });
  expect(piped.status).toBe(0);
  expect(piped.stderr).toBe('');
  expect(piped.stdout).toMatch(/^intact: 70000 records/);
});
