// verifyLog against every kind of damage: edits, deletions, insertions, duplicates, reordering,
// rebuilt chains, unknown keys, anchors and incremental checks.
import { readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, type VerifyReport, readLog, verifyLog } from '../../lib/index';
import { encodeRecord, GENESIS } from '../../lib/log/format';
import { KEYS, KEY_1, KEY_2, readLines, useScratch, writeLines, writeLog } from './helpers';

const scratch = useScratch();
const reasons = (report: VerifyReport): string[] => report.tampered.map((entry) => `${entry.line}:${entry.reason}`);

describe('an intact log', () => {
  it('verifies, with and without keys, and reports its head for later checks', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 5, KEY_1);
    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'intact', ok: true, records: 5, tamperedEntries: 0, tampered: [], tornTail: null, signaturesChecked: true });
    expect(report.head).toMatchObject({ seq: 5, offset: readFileSync(path).length });
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', signaturesChecked: false });
  });

  it('an empty file is an intact log with no head', async () => {
    writeFileSync(scratch.path('empty.log'), '');
    expect(await verifyLog(scratch.path('empty.log'))).toMatchObject({ status: 'intact', records: 0, head: null });
  });
});

describe('damage', () => {
  let logs = 0;
  async function damaged(edit: (lines: string[]) => string[], count = 6): Promise<VerifyReport> {
    logs += 1;
    const path = scratch.path(`audit-${logs}.log`);
    const lines = await writeLog(path, count, KEY_1);
    writeLines(path, edit([...lines]));
    return verifyLog(path, { keys: KEYS });
  }

  it('a changed byte in a value: hash-mismatch on that line only', async () => {
    const report = await damaged((lines) => {
      lines[2] = lines[2]!.replace('"user3"', '"userX"');
      return lines;
    });
    expect(report.status).toBe('tampered');
    expect(reasons(report)).toEqual(['3:hash-mismatch', '3:bad-signature']);
    expect(report.tampered[0]).toMatchObject({ seq: 3, line: 3 });
    expect(report.tamperedEntries).toBe(1);
  });

  it('a deleted record: the next one breaks the chain and the sequence', async () => {
    const report = await damaged((lines) => lines.filter((_, index) => index !== 3));
    expect(reasons(report)).toEqual(['4:sequence-gap', '4:chain-break']);
    expect(report.tampered[0]!.seq).toBe(5);
  });

  it('a duplicated record', async () => {
    const report = await damaged((lines) => [...lines.slice(0, 3), lines[2]!, ...lines.slice(3)]);
    expect(reasons(report)).toContain('4:sequence-gap');
    expect(reasons(report)).toContain('4:chain-break');
  });

  it('two records swapped', async () => {
    const report = await damaged((lines) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
    expect(report.status).toBe('tampered');
    expect(reasons(report)).toEqual(expect.arrayContaining(['2:sequence-gap', '2:chain-break', '3:chain-break', '4:chain-break']));
  });

  it('an inserted record with a valid hash of its own', async () => {
    const report = await damaged((lines) => {
      const forged = encodeRecord({ seq: 4, ts: '2026-01-01T00:00:00.000Z', prev: GENESIS, type: 'data', keyId: null, dataJson: '{"forged":true}' }, null);
      return [...lines.slice(0, 3), forged.line, ...lines.slice(3)];
    });
    expect(reasons(report)).toEqual(expect.arrayContaining(['4:chain-break', '4:unsigned', '5:sequence-gap', '5:chain-break']));
  });

  it('a line that is not a record in the middle, and junk appended at the end', async () => {
    expect(reasons(await damaged((lines) => [...lines.slice(0, 2), 'hello\n', ...lines.slice(2)]))).toEqual(['3:malformed-line']);
    expect(reasons(await damaged((lines) => [...lines, 'not a record\n']))).toEqual(['7:malformed-line']);
  });

  it('a changed hash or signature field is caught without keys too', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 3, KEY_1);
    // Replaces the first hex digit of a field with another one.
    const flip = (line: string, field: string): string =>
      line.replace(new RegExp(`"${field}":"([0-9a-f])`), (_, digit: string) => `"${field}":"${digit === 'a' ? 'b' : 'a'}`);
    writeLines(path, [lines[0]!, flip(lines[1]!, 'sig'), lines[2]!]);
    expect(reasons(await verifyLog(path))).toEqual(['2:hash-mismatch']);
    writeLines(path, [lines[0]!, flip(lines[1]!, 'hash'), lines[2]!]);
    expect(reasons(await verifyLog(path))).toEqual(['2:hash-mismatch', '3:chain-break']);
  });
});

describe('every byte', () => {
  it('changing any single byte of any record is never reported as a clean intact log', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3, KEY_1);
    const original = readFileSync(path);
    const head = (await verifyLog(path)).head!;
    const copy = scratch.path('copy.log');
    for (let index = 0; index < original.length; index += 1) {
      const bytes = Buffer.from(original);
      bytes[index] = bytes[index]! ^ (bytes[index] === 0x30 ? 0x01 : 0x20);
      writeFileSync(copy, bytes);
      const report = await verifyLog(copy, { keys: KEYS });
      // The final newline turned into another byte looks like a torn write: reported as a torn tail,
      // and as tampering once the head is anchored.
      expect({ index, clean: report.ok && report.tornTail === null }).toEqual({ index, clean: false });
      expect({ index, anchored: (await verifyLog(copy, { anchor: { seq: head.seq, hash: head.hash } })).status }).toEqual({ index, anchored: 'tampered' });
    }
  }, 60_000);
});

describe('rebuilt chains', () => {
  // What an attacker who can rewrite the file does: recompute every hash over altered records.
  async function rebuild(path: string, alter: (data: Record<string, unknown>) => void): Promise<void> {
    const lines = readLines(path).filter((line) => line.trim() !== '');
    let prev = GENESIS;
    const rebuilt = lines.map((line) => {
      const record = JSON.parse(line) as { seq: number; ts: string; data: Record<string, unknown> };
      alter(record.data);
      const { line: forged, hash } = encodeRecord({ seq: record.seq, ts: record.ts, prev, type: 'data', keyId: null, dataJson: JSON.stringify(record.data) }, null);
      prev = hash;
      return forged;
    });
    writeLines(path, rebuilt);
  }

  it('verifies without keys or anchor (the known limit), and is caught by keys and by an anchor', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 4, KEY_1);
    const anchor = (await verifyLog(path)).head!;
    await rebuild(path, (data) => {
      data.actor = 'mallory';
    });
    expect((await verifyLog(path)).status).toBe('intact');
    const withKeys = await verifyLog(path, { keys: KEYS });
    expect(withKeys.status).toBe('tampered');
    expect(new Set(withKeys.tampered.map((entry) => entry.reason))).toEqual(new Set(['unsigned']));
    expect(reasons(await verifyLog(path, { anchor: { seq: anchor.seq, hash: anchor.hash } }))).toEqual(['4:anchor-mismatch']);
  });

  it('a log cut short below its anchor', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 6);
    const anchor = (await verifyLog(path)).head!;
    writeLines(path, lines.slice(0, 4));
    const report = await verifyLog(path, { anchor: { seq: anchor.seq, hash: anchor.hash } });
    expect(report.tampered).toEqual([expect.objectContaining({ reason: 'truncated-below-anchor' })]);
    expect(report.tampered[0]!.detail).toContain('ends at seq 4');
  });
});

describe('keys', () => {
  it('rotation keeps history verifiable; a key left out is reported, never accepted', async () => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { key: KEY_1, durability: 'none' });
    await log.append({ n: 1 });
    log.rotateKey(KEY_2);
    await log.append({ n: 2 });
    await log.append({ n: 3 });
    await log.close();
    expect(readLines(path).map((line) => JSON.parse(line).keyId)).toEqual(['k1', 'k2', 'k2']);

    expect(await verifyLog(path, { keys: KEYS })).toMatchObject({ status: 'intact', unknownKeyIds: [] });
    const partial = await verifyLog(path, { keys: { k1: KEY_1.secret } });
    expect(partial).toMatchObject({ status: 'tampered', unknownKeyIds: ['k2'] });
    expect(reasons(partial)).toEqual(['2:unknown-key', '3:unknown-key']);
    const wrong = await verifyLog(path, { keys: { k1: KEY_1.secret, k2: 'another secret of 16+ bytes' } });
    expect(reasons(wrong)).toEqual(['2:bad-signature', '3:bad-signature']);
  });
});

describe('since: incremental checks', () => {
  it('verifies only what follows a trusted head, from its offset or by seq', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 4, KEY_1);
    const first = (await verifyLog(path, { keys: KEYS })).head!;
    const log = await AppendOnlyLog.open(path, { key: KEY_1 });
    await log.append({ later: 1 });
    await log.append({ later: 2 });
    await log.close();

    const fromOffset = await verifyLog(path, { keys: KEYS, since: first });
    expect(fromOffset).toMatchObject({ status: 'intact', records: 2, head: { seq: 6 } });
    const bySeq = await verifyLog(path, { since: { seq: first.seq, hash: first.hash } });
    expect(bySeq).toMatchObject({ status: 'intact', records: 2 });

    // Damage before the trusted point is out of scope; damage after it is found.
    const lines = readLines(path);
    lines[5] = lines[5]!.replace('"later":2', '"later":3');
    writeLines(path, lines);
    expect(reasons(await verifyLog(path, { since: first }))).toContain('2:hash-mismatch');
  });

  it('with nothing new since the trusted head, the report keeps that head, so a daily since = head loop keeps its place', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 4);
    const { head } = await verifyLog(path);
    for (const since of [head!, { seq: head!.seq, hash: head!.hash }]) {
      const again = await verifyLog(path, { since });
      expect(again).toMatchObject({ status: 'intact', records: 0, head: { seq: head!.seq, hash: head!.hash, offset: head!.offset } });
    }
    // The loop goes on: one more record, checked from the kept head alone.
    const kept = (await verifyLog(path, { since: head! })).head!;
    const log = await AppendOnlyLog.open(path, { durability: 'none' });
    await log.append({ later: true });
    await log.close();
    const next = await verifyLog(path, { since: kept });
    expect(next).toMatchObject({ status: 'intact', records: 1, head: { seq: head!.seq + 1 } });
  });

  it('a since that is not in the log is a finding', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    const head = (await verifyLog(path)).head!;
    expect(reasons(await verifyLog(path, { since: { ...head, offset: head.offset - 5 } }))).toEqual(['1:since-mismatch']);
    expect((await verifyLog(path, { since: { seq: 2, hash: 'f'.repeat(64) } })).tampered[0]!.reason).toBe('since-mismatch');
    expect((await verifyLog(path, { since: { seq: 9, hash: head.hash } })).tampered[0]!.reason).toBe('since-mismatch');
  });
});

describe('bad input', () => {
  it('rejects malformed options with TypeErrors, and a missing file with ENOENT', async () => {
    await expect(verifyLog(scratch.path('missing.log'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(verifyLog(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(verifyLog(scratch.path('x'), { anchor: { seq: 0, hash: 'x' } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('"options.anchor.seq"') });
    await expect(verifyLog(scratch.path('x'), { anchor: { seq: 1, hash: 'x' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"options.anchor.hash"') });
    await expect(verifyLog(scratch.path('x'), { keys: { k: 5 as never } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"options.keys.k"') });
    await expect(verifyLog(scratch.path('x'), { onProgress: 'yes' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"options.onProgress" property must be of type function') });
    await expect(verifyLog(scratch.path('x'), { key: {} } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('"options.key"') });
    expect(() => readLog(scratch.path('x'), null as never)).toThrow(/"options" argument must be of type object/);
    expect(() => readLog(scratch.path('x'), { limit: -1 })).toThrow(/"options.limit"/);
  });

  it('a huge line and invalid UTF-8 are findings, not crashes', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 2);
    writeFileSync(path, Buffer.concat([Buffer.from(lines[0]!), Buffer.alloc(3 * 1024 * 1024, 0x61), Buffer.from('\n\xff\xfe\n', 'latin1'), Buffer.from(lines[1]!)]));
    const report = await verifyLog(path);
    expect(reasons(report)).toEqual(['2:malformed-line', '3:malformed-line']);
    expect(report.records).toBe(2);
  });
});
