// verifyLog in bounded memory on any input: many non-record lines are counted past the first findings, not kept.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { useScratch } from './helpers';

const DIST = join(__dirname, '..', '..', 'dist', 'index.js');
const scratch = useScratch();

/** Verifies `path` in a child with a 48 MB heap; returns the report's counts and the child's peak RSS. */
function verifyInSmallHeap(path: string): { status: string; records: number; tamperedEntries: number; kept: number; maxRssMb: number } {
  const script = `
    require(${JSON.stringify(DIST)}).verifyLog(${JSON.stringify(path)}).then((report) => {
      const maxRssMb = process.resourceUsage().maxRSS / 1024;
      process.stdout.write(JSON.stringify({ status: report.status, records: report.records,
        tamperedEntries: report.tamperedEntries, kept: report.tampered.length, maxRssMb }));
    });`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=48', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout);
}

function writeChunks(path: string, chunks: number, chunk: () => Buffer): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < chunks; i += 1) writeSync(fd, chunk());
  } finally {
    closeSync(fd);
  }
}

describe('verifyLog memory', () => {
  it('8 MB of empty lines: every line counted, 10,000 kept, under 100 MB RSS with a 48 MB heap', () => {
    const path = scratch.path('empty.log');
    writeChunks(path, 8, () => Buffer.alloc(1024 * 1024, 0x0a));
    const result = verifyInSmallHeap(path);
    expect(result).toMatchObject({ status: 'tampered', records: 0, tamperedEntries: 8 * 1024 * 1024, kept: 10_000 });
    expect(result.maxRssMb).toBeLessThan(100);
  }, 120_000);

  it('128 MB of random bytes: tampered, under 100 MB RSS with a 48 MB heap', () => {
    const path = scratch.path('random.log');
    let newlines = 0;
    writeChunks(path, 128, () => {
      const bytes = randomBytes(1024 * 1024);
      for (const byte of bytes) if (byte === 0x0a) newlines += 1;
      return bytes;
    });
    const result = verifyInSmallHeap(path);
    expect(result.status).toBe('tampered');
    expect(result.records).toBe(0);
    // Every line is a finding (the last one unterminated unless the file ends with a newline).
    expect(result.tamperedEntries).toBeGreaterThanOrEqual(newlines);
    expect(result.tamperedEntries).toBeLessThanOrEqual(newlines + 1);
    expect(result.kept).toBe(10_000);
    expect(result.maxRssMb).toBeLessThan(100);
  }, 120_000);
});
