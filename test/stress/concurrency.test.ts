// Four processes x 5,000 appends, several in flight in each, on one append-only-protected log, with a
// reader checking it all along.
import { once } from 'node:events';

import { expect, it } from 'vitest';

import { AppendOnlyLog, readLog, verifyLog } from '../../lib/index';
import { lsattr, useAuditFile } from '../linux/helpers';
import { allRecords, startWriter } from '../linux/writer-process';

const audit = useAuditFile('');
const PROCESSES = 4;
const APPENDS = 5000;

it('makes one chain with contiguous seqs, and a concurrent reader never sees tampering', async () => {
  const opened = await AppendOnlyLog.open(audit.file, { protect: 'required' });
  await opened.close();
  expect(lsattr(audit.file)).toContain('a');

  const writers = Array.from({ length: PROCESSES }, () => startWriter(audit.file, APPENDS, 8));
  const exited = Promise.all(writers.map(async (writer) => (await once(writer.child, 'exit'))[0] as number));
  let running = true;
  void exited.then(() => (running = false));
  let checks = 0;
  while (running) {
    const report = await verifyLog(audit.file);
    expect(report.tampered).toEqual([]);
    let previous = 0;
    for await (const record of readLog(audit.file)) {
      expect(record.seq).toBe(previous + 1);
      previous = record.seq;
    }
    checks += 1;
  }
  expect(await exited).toEqual(Array(PROCESSES).fill(0));
  expect(checks).toBeGreaterThan(1);

  const total = PROCESSES * APPENDS;
  expect(await verifyLog(audit.file)).toMatchObject({ status: 'intact', records: total, tampered: [], recovered: [] });
  const records = await allRecords(audit.file);
  expect([...records.keys()]).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  for (const writer of writers) for (const [seq, hash] of writer.acknowledged) expect(records.get(seq)).toBe(hash);
});
