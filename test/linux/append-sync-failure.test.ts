// An appendSync whose record a failed write lost must throw, never return a head (needs root and the file flags).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AppendOnlyLog, readLog } from '../../lib/index';
import { chattr, makeTempDir, removeTree } from './helpers';

let dir = '';
beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeTree(dir));

describe('appendSync() when the buffer it joins cannot be written', () => {
  // Guards against this: in a session, appendSync() adds its record and the add itself writes the
  // buffer once it reaches 64 KiB. When that write fails, the record's waiter is rejected, but the
  // following session.write() has nothing left to write and returns null, so `failure !== null` is
  // false and appendSync() returns { seq, hash } for a record that never reached the file: an
  // acknowledged record lost, with no error.
  it('throws rather than acknowledge a record that was not written', async () => {
    const path = join(dir, 'audit.log');
    const log = await AppendOnlyLog.open(path);
    await log.append({ n: 0 });
    const before = readFileSync(path);

    // One event-loop turn: the session buffers these 'sync' appends (50 records of about 1.2 KB: just
    // under the 64 KiB at which it writes), and the 8 KB record below takes the buffer over it.
    const pending: Promise<unknown>[] = [];
    const filler = 'x'.repeat(1000);
    for (let i = 1; i <= 50; i += 1) pending.push(log.append({ i, filler }).catch((error: unknown) => error));
    // The write will fail: the file becomes immutable under the open descriptor.
    chattr(['+i', path]);
    let acknowledged: { seq: number; hash: string } | null = null;
    let thrown: unknown = null;
    try {
      acknowledged = log.appendSync({ important: true, filler: 'y'.repeat(8000) });
    } catch (error) {
      thrown = error;
    }
    chattr(['-i', path]);
    await Promise.all(pending);
    await log.close().catch(() => undefined);

    const hashes: string[] = [];
    for await (const record of readLog(path)) hashes.push(record.hash);
    if (acknowledged !== null) {
      // What appendSync acknowledged must be in the file.
      expect(hashes).toContain(acknowledged.hash);
    }
    expect(thrown).not.toBeNull();
    expect(readFileSync(path).subarray(0, before.length).equals(before)).toBe(true);
  });
});
