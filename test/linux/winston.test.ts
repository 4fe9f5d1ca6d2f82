// The winston transport with the real winston: every entry kept however the process ends, then checked with verifyLog.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import winston from 'winston';

import { type LogRecord, readLog, verifyLog } from '../../lib/index';
import { AppendOnlyTransport } from '../../lib/integrations/winston';
import { ROOT, lsattr, useAuditFile } from './helpers';

const WRITER = join(ROOT, 'test', 'linux', 'winston-writer.js');
const ENTRIES = 2000;
const SECRET = 'b'.repeat(32);

async function records(path: string): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of readLog(path)) all.push(record);
  return all;
}

describe('new AppendOnlyTransport() in a winston logger', () => {
  const temp = useAuditFile(); // its directory: the logs below are new files

  for (const how of ['early', 'end', 'exit'] as const) {
    it(`keeps every entry, in order, when the process ends by ${how}`, async () => {
      const path = join(temp.dir, 'winston.log');
      const options = { key: { id: 'w1', secret: SECRET }, durability: how === 'exit' ? 'none' : 'sync' };
      const child = spawnSync(process.execPath, [WRITER, how, path, String(ENTRIES), JSON.stringify(options)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      const data = (await records(path)).map((record) => record.data as Record<string, unknown>);
      expect(data.length).toBe(ENTRIES);
      data.forEach((entry, i) => {
        if (entry.i !== i || entry.message !== `line ${i}`) expect({ at: i, entry }).toEqual({ at: i, entry: { i, message: `line ${i}` } });
      });
      expect(data[0]).toEqual({ i: 0, user: 'alice', level: 'info', message: 'line 0' });
      expect(await verifyLog(path, { keys: { w1: SECRET } })).toMatchObject({ status: 'intact', records: ENTRIES, signaturesChecked: true });
    });
  }

  it('writes what JSON cannot hold as winston does, closes on logger.end(), and protects the file', async () => {
    const path = join(temp.dir, 'inprocess.log');
    const transport = new AppendOnlyTransport({ path, protect: 'required', level: 'warn' });
    // A format on the logger: winston-transport copies info's enumerable fields for a transport's own
    // format, which would leave an Error's message behind before the transport sees it.
    const logger = winston.createLogger({ format: winston.format.timestamp(), transports: [transport] });
    const cycle: Record<string, unknown> = { name: 'cycle' };
    cycle.self = cycle;
    logger.info('below the transport level');
    logger.warn('odd values', { big: 10n ** 20n, cycle, when: new Date(0) });
    logger.error(new Error('failed'));
    const finished = once(logger, 'finish');
    logger.end();
    await finished;
    expect(lsattr(path)).toContain('a');
    const data = (await records(path)).map((record) => record.data as Record<string, unknown>);
    expect(data).toHaveLength(2);
    expect(data[0]).toMatchObject({
      level: 'warn',
      message: 'odd values',
      big: '100000000000000000000',
      cycle: { name: 'cycle', self: '[Circular]' },
      when: '1970-01-01T00:00:00.000Z',
      timestamp: expect.any(String),
    });
    expect(data[1]).toMatchObject({ level: 'error', message: 'failed', stack: expect.stringContaining('Error: failed') });
    expect((await verifyLog(path)).status).toBe('intact');
    // Closed with the logger: nothing holds the file.
    expect(() => transport.flushSync()).toThrow();
  });

  it('checks its options when it is built', () => {
    const path = join(temp.dir, 'never.log');
    expect(() => new AppendOnlyTransport({ path, levl: 'info' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"options.levl"') }) as Error,
    );
    expect(() => new AppendOnlyTransport({ path, durability: 'fast' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }) as Error,
    );
  });
});
