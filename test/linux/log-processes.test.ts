// The log across processes: killed mid-append, four writers at once, and OS protection.
import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, verifyLog } from '../../lib/index';
import { DIST, lsattr, runNode, useAuditFile } from './helpers';
import { allRecords, startWriter } from './writer-process';

const audit = useAuditFile('');

describe('crashes', () => {
  it('a writer killed with SIGKILL mid-append loses no acknowledged record, round after round', async () => {
    const acknowledged = new Map<number, string>();
    for (let round = 0; round < 6; round += 1) {
      // Large records in odd rounds, so the kill often lands inside a write().
      const writer = startWriter(audit.file, 1_000_000, 16, round % 2 === 1 ? 200_000 : 100);
      await new Promise((wake) => setTimeout(wake, 150 + Math.random() * 250));
      writer.child.kill('SIGKILL');
      await once(writer.child, 'exit');
      for (const [seq, hash] of writer.acknowledged) acknowledged.set(seq, hash);
      // Reopening recovers whatever the kill tore, and the chain goes on.
      const log = await AppendOnlyLog.open(audit.file);
      await log.append({ round });
      await log.close();
    }
    expect(acknowledged.size).toBeGreaterThan(50);
    const report = await verifyLog(audit.file);
    expect(report).toMatchObject({ status: 'intact', tornTail: null, tampered: [] });
    const records = await allRecords(audit.file);
    for (const [seq, hash] of acknowledged) expect({ seq, hash: records.get(seq) }).toEqual({ seq, hash });
  }, 60_000);
});

describe('concurrency', () => {
  it('four processes appending to one protected log make one chain with contiguous seqs', async () => {
    const log = await AppendOnlyLog.open(audit.file, { protect: 'required' });
    await log.close();
    expect(lsattr(audit.file)).toContain('a');
    const writers = Array.from({ length: 4 }, () => startWriter(audit.file, 1500, 8));
    const codes = await Promise.all(writers.map(async (writer) => (await once(writer.child, 'exit'))[0]));
    expect(codes).toEqual([0, 0, 0, 0]);
    const report = await verifyLog(audit.file);
    expect(report).toMatchObject({ status: 'intact', records: 6000, tampered: [], recovered: [] });
    const records = await allRecords(audit.file);
    expect([...records.keys()]).toEqual(Array.from({ length: 6000 }, (_, i) => i + 1));
    for (const writer of writers) for (const [seq, hash] of writer.acknowledged) expect(records.get(seq)).toBe(hash);
  }, 60_000);

  it('a reader verifying while writers append never sees tampering', async () => {
    const writers = Array.from({ length: 2 }, () => startWriter(audit.file, 3000, 4));
    const exits = Promise.all(writers.map((writer) => once(writer.child, 'exit')));
    let checks = 0;
    let running = true;
    void exits.then(() => (running = false));
    while (running) {
      const report = await verifyLog(audit.file);
      expect(report.tampered).toEqual([]);
      checks += 1;
    }
    await exits;
    expect(checks).toBeGreaterThan(1);
    expect(await verifyLog(audit.file)).toMatchObject({ status: 'intact', records: 6000 });
  }, 60_000);
});

describe('protection', () => {
  it("protect: true sets the append-only flag, and the log still appends", async () => {
    const log = await AppendOnlyLog.open(audit.file, { protect: true });
    await log.append({ protected: true });
    await log.close();
    expect(lsattr(audit.file)).toContain('a');
    const again = await AppendOnlyLog.open(audit.file);
    await again.append({ reopened: true });
    await again.close();
    expect(await verifyLog(audit.file)).toMatchObject({ status: 'intact', records: 2 });
  });

  it("FS_APPEND_ONLY_PROTECT=1 turns protection on by default", () => {
    const result = runNode(
      `require(${JSON.stringify(DIST)}).AppendOnlyLog.open(process.argv[1]).then((log) => log.close());`,
      { args: [audit.file], env: { FS_APPEND_ONLY_PROTECT: '1' } },
    );
    expect(result.status).toBe(0);
    expect(lsattr(audit.file)).toContain('a');
  });

  it("without CAP_LINUX_IMMUTABLE, 'required' throws EPERM and true warns and goes on", () => {
    const script = `
      const { AppendOnlyLog } = require(${JSON.stringify(DIST)});
      const warnings = [];
      process.on('warning', (warning) => warnings.push(warning.code));
      (async () => {
        const required = await AppendOnlyLog.open(process.argv[1], { protect: 'required' }).then(() => 'opened', (e) => e.code + ': ' + e.message);
        const log = await AppendOnlyLog.open(process.argv[1], { protect: true });
        await log.append({ unprotected: true });
        await log.close();
        setImmediate(() => console.log(JSON.stringify({ required, warnings })));
      })();`;
    const result = runNode(script, { args: [audit.file], dropCapability: true });
    const outcome = JSON.parse(result.stdout) as { required: string; warnings: string[] };
    expect(outcome.required).toMatch(/^EPERM: .*CAP_LINUX_IMMUTABLE/);
    expect(outcome.warnings).toEqual(['FS_APPEND_ONLY_UNPROTECTED']);
    expect(lsattr(audit.file)).not.toContain('a');
  });

});
