// 50 rounds of SIGKILL at a random moment during durable appends, some of them mid-write of a large
// record; the log is reopened and appended to after every round.
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';

import { expect, it } from 'vitest';

import { AppendOnlyLog, verifyLog } from '../../lib/index';
import { useAuditFile } from '../linux/helpers';
import { allRecords, startWriter } from '../linux/writer-process';

const audit = useAuditFile('');
const ROUNDS = 50;

it(`loses no acknowledged record over ${ROUNDS} kills, and reports torn writes as recovered, never as tampering`, async () => {
  const acknowledged = new Map<number, string>();
  for (let round = 0; round < ROUNDS; round += 1) {
    // Every third round writes 900 KB records, so that the kill often lands inside a write().
    const large = round % 3 === 2;
    const writer = startWriter(audit.file, 1_000_000, large ? 4 : 16, large ? 900_000 : 150);
    await new Promise((wake) => setTimeout(wake, 60 + Math.random() * 240));
    writer.child.kill('SIGKILL');
    await once(writer.child, 'exit');
    for (const [seq, hash] of writer.acknowledged) acknowledged.set(seq, hash);
    // A kill tears a write only now and then (the kernel checks for it between pages), so every tenth
    // round also leaves the start of the next record behind (its seq and prev), as a kill inside write() does.
    if (round % 10 === 9) {
      const records = await allRecords(audit.file);
      const last = Math.max(0, ...records.keys());
      appendFileSync(audit.file, `{"seq":${last + 1},"ts":"2026-11-22T10:00:00.000Z","prev":"${records.get(last)}","data":{"ro`);
    }
    const log = await AppendOnlyLog.open(audit.file);
    acknowledged.set(...(Object.values(await log.append({ round })) as [number, string]));
    await log.close();
  }

  const report = await verifyLog(audit.file);
  expect(report).toMatchObject({ status: 'intact', tampered: [], tornTail: null });
  const records = await allRecords(audit.file);
  const missing = [...acknowledged].filter(([seq, hash]) => records.get(seq) !== hash);
  expect(missing).toEqual([]);
  expect(report.recovered.length).toBeGreaterThanOrEqual(ROUNDS / 10);
  console.log(`${ROUNDS} kills: ${acknowledged.size} acknowledged records, ${report.records} records, ${report.recovered.length} torn writes recovered`);
});
