// A log whose name is not UTF-8, given as a Buffer: written, read and verified at those bytes, nowhere else.
import { readdirSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, readLog, verifyLog } from '../../lib/index';
import { useScratch } from './helpers';

const scratch = useScratch();

describe('Buffer paths that are not UTF-8', () => {
  it('open, append, readLog and verifyLog all use the bytes "caf\\xe9.log", and create no other file', async () => {
    const latin1 = Buffer.concat([Buffer.from(`${scratch.dir}/`), Buffer.from('caf\xe9.log', 'latin1')]);
    const log = await AppendOnlyLog.open(latin1, { durability: 'none' });
    await log.append({ a: 1 });
    log.appendSync({ b: 2 });
    await log.close();

    const names = readdirSync(scratch.dir, { encoding: 'buffer' });
    expect(names.map((name) => name.toString('latin1'))).toEqual(['caf\xe9.log']);

    const records = [];
    for await (const record of readLog(latin1)) records.push(record.data);
    expect(records).toEqual([{ a: 1 }, { b: 2 }]);
    expect(await verifyLog(latin1)).toMatchObject({ status: 'intact', records: 2 });
  });

  it('a file at the UTF-8 reading of those bytes is never touched', async () => {
    const latin1 = Buffer.concat([Buffer.from(`${scratch.dir}/`), Buffer.from('caf\xe9.log', 'latin1')]);
    // What the bytes decode to as UTF-8: the replacement character.
    const decoded = `${scratch.dir}/caf\uFFFD.log`;
    writeFileSync(decoded, 'not a log\n');
    const log = await AppendOnlyLog.open(latin1, { durability: 'none' });
    await log.append({ a: 1 });
    await log.close();
    await expect(verifyLog(decoded)).resolves.toMatchObject({ status: 'tampered', records: 0 });
    expect(await verifyLog(latin1)).toMatchObject({ status: 'intact', records: 1 });
  });

  it('a relative Buffer path is resolved against the directory at open', async () => {
    const previous = process.cwd();
    process.chdir(scratch.dir);
    let log: AppendOnlyLog;
    try {
      log = await AppendOnlyLog.open(Buffer.from('r\xe9l.log', 'latin1'), { durability: 'none' });
    } finally {
      process.chdir(previous);
    }
    await log.append({ a: 1 });
    await log.close();
    expect(readdirSync(scratch.dir, { encoding: 'buffer' }).map((name) => name.toString('latin1'))).toEqual(['r\xe9l.log']);
  });
});
