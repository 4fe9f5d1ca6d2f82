// A child process writing a directory log (appends, then optionally rotate()), reporting each acknowledged record.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

import { segmentName } from '../../lib/log/segments';
import { DIST, makeTempDir, removeTree } from './helpers';

/** A fresh directory per test holding the log directory `dir` (not created), its flags cleared after. */
export function useLogDirectory(): { base: string; dir: string } {
  const scratch = { base: '', dir: '' };
  beforeEach(() => {
    scratch.base = makeTempDir();
    scratch.dir = join(scratch.base, 'audit');
  });
  afterEach(() => removeTree(scratch.base));
  return scratch;
}

/** The file name of the segment whose first record has `seq`. */
export const seg = segmentName;

export interface WriterPlan {
  dir: string;
  /** Appends to make, `concurrency` of them in flight (each awaited, durability 'sync'). */
  count: number;
  concurrency?: number;
  /** AppendOnlyLog.open() options. */
  open?: Record<string, unknown>;
  /** Call log.rotate() once the appends are done. */
  rotate?: boolean;
  /** Characters of padding in each record's data. */
  pad?: number;
}

// Prints "ok <seq> <hash>" for every acknowledged append and "error <n> <code> <message>" for every
// rejected one, so the test sees both; a failure outside the appends exits 1.
const WRITER = `
  const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
  const plan = JSON.parse(process.argv[1]);
  (async () => {
    const log = await AppendOnlyLog.open(plan.dir, { durability: 'sync', ...(plan.open || {}) });
    let next = 0;
    async function worker() {
      while (next < plan.count) {
        const n = next++;
        try {
          const head = await log.append({ pid: process.pid, n, pad: 'x'.repeat(plan.pad || 0) });
          process.stdout.write('ok ' + head.seq + ' ' + head.hash + '\\n');
        } catch (error) {
          process.stdout.write('error ' + n + ' ' + error.code + ' ' + String(error.message).split('\\n')[0] + '\\n');
        }
      }
    }
    await Promise.all(Array.from({ length: plan.concurrency || 1 }, worker));
    if (plan.rotate) await log.rotate();
    await log.close();
  })().catch((error) => { console.error(error); process.exit(1); });`;

export interface Writer {
  child: ChildProcess;
  /** seq -> hash of every append the child saw resolve. */
  acknowledged: Map<number, string>;
  /** "n code message" of every append the child saw reject. */
  errors: string[];
  /** Resolves with the child's exit code and signal, and what it wrote to stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function startSegmentWriter(plan: WriterPlan, env: Record<string, string> = {}): Writer {
  const child = spawn(process.execPath, ['-e', WRITER, '--', JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const acknowledged = new Map<number, string>();
  const errors: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const [kind, first, second] = line.split(' ');
      if (kind === 'ok') acknowledged.set(Number(first), second!);
      else errors.push(line.slice('error '.length));
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stderr }));
  return { child, acknowledged, errors, exited };
}

export interface RecordLine {
  seq: number;
  prev: string;
  hash: string;
  type?: string;
  ts: string;
  data: unknown;
}

/** The segment files of `dir`, in name order. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d{16}\.jsonl$/.test(name))
    .sort();
}

/** The records of one segment file, parsed. */
export function segmentRecords(dir: string, name: string): RecordLine[] {
  return readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RecordLine);
}
