// A child process appending to a log, reporting every acknowledged record to the test.
import { type ChildProcess, spawn } from 'node:child_process';

import { expect } from 'vitest';

import { readLog } from '../../lib/index';
import { DIST } from './helpers';

// A writer that prints "seq hash" for every acknowledged append, `concurrency` appends in flight.
const WRITER = `
  const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
  const [path, count, concurrency, padding] = process.argv.slice(1);
  (async () => {
    const log = await AppendOnlyLog.open(path, { durability: 'sync' });
    let next = 0;
    async function worker() {
      while (next < Number(count)) {
        const n = next++;
        const head = await log.append({ pid: process.pid, n, pad: 'x'.repeat(Number(padding)) });
        process.stdout.write(head.seq + ' ' + head.hash + '\\n');
      }
    }
    await Promise.all(Array.from({ length: Number(concurrency) }, worker));
    await log.close();
  })().catch((error) => { console.error(error); process.exit(1); });`;

export function startWriter(path: string, count: number, concurrency: number, padding = 100): { child: ChildProcess; acknowledged: Map<number, string> } {
  const child = spawn(process.execPath, ['-e', WRITER, '--', path, String(count), String(concurrency), String(padding)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged = new Map<number, string>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const [seq, hash] = line.split(' ');
      acknowledged.set(Number(seq), hash!);
    }
  });
  return { child, acknowledged };
}

/** seq -> hash of every record, failing on a seq seen twice. */
export async function allRecords(path: string): Promise<Map<number, string>> {
  const bySeq = new Map<number, string>();
  for await (const record of readLog(path)) {
    expect(bySeq.has(record.seq)).toBe(false);
    bySeq.set(record.seq, record.hash);
  }
  return bySeq;
}

