// Fixtures for the log tests: a temporary directory per test, and small logs to damage.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

import { AppendOnlyLog, type LogKey } from '../../lib/index';

export const KEY_1: LogKey = { id: 'k1', secret: 'first secret, 32 bytes long ....' };
export const KEY_2: LogKey = { id: 'k2', secret: Buffer.alloc(32, 7) };
export const KEYS = { k1: KEY_1.secret, k2: KEY_2.secret };

export interface Scratch {
  readonly dir: string;
  path(name: string): string;
}

export function useScratch(): Scratch {
  const scratch = { dir: '', path: (name: string) => join(scratch.dir, name) };
  beforeEach(() => {
    scratch.dir = mkdtempSync(join(tmpdir(), 'fsao-log-'));
  });
  afterEach(() => rmSync(scratch.dir, { recursive: true, force: true }));
  return scratch;
}

/** Writes a log of `count` audit events and returns its lines (with their newlines). */
export async function writeLog(path: string, count: number, key?: LogKey): Promise<string[]> {
  const log = await AppendOnlyLog.open(path, { durability: 'none', ...(key ? { key } : {}) });
  for (let i = 1; i <= count; i += 1) await log.append({ actor: `user${i}`, action: 'read', id: i });
  await log.close();
  return readLines(path);
}

export function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split(/(?<=\n)/);
}

export function writeLines(path: string, lines: string[]): void {
  writeFileSync(path, lines.join(''));
}
