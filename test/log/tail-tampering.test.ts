// The end of a log: complete lines that are not records are tampering, only crash bytes are a torn tail, and foreign bytes never stop the writer.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { AppendOnlyLog, type LogRecord, type VerifyReport, readLog, verifyLog } from '../../lib/index';
import { encodeRecord } from '../../lib/log/format';
import { KEYS, KEY_1, useScratch, writeLog } from './helpers';

const scratch = useScratch();

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const findings = (report: VerifyReport): string[] => report.tampered.map((entry) => `${entry.line}:${entry.reason}`);
const malformed = (lines: number[]): string[] => lines.map((line) => `${line}:malformed-line`);

async function records(path: string): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of readLog(path)) all.push(record);
  return all;
}

/** The line numbers (1-based) of `bytes` once they start on line `first`. */
function lineNumbers(bytes: Buffer, first: number): number[] {
  let count = 0;
  for (let index = 0; index < bytes.length; index += 1) if (bytes[index] === 0x0a) count += 1;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) count += 1;
  return Array.from({ length: count }, (_, index) => first + index);
}

/** The bytes a recovery record must name: the run itself, closed with "~\n" unless it ends a line. */
function closed(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from('~\n')]);
}

/**
 * Checks the one recovery record of the log: its reason, and that offset, length and sha256 name exactly
 * `expected` at `offset`, with the recovery record's line right after them.
 */
async function expectRecovery(path: string, reason: 'torn-tail' | 'foreign-bytes', offset: number, expected: Buffer, seq: number): Promise<void> {
  const file = readFileSync(path);
  const recoveries = (await records(path)).filter((record) => record.type === 'recovery');
  expect(recoveries).toHaveLength(1);
  const [recovery] = recoveries;
  expect(recovery!.seq).toBe(seq);
  expect(recovery!.data).toEqual({ reason, offset, length: expected.length, sha256: sha256(expected) });
  expect(file.subarray(offset, offset + expected.length).equals(expected)).toBe(true);
  const start = `{"seq":${seq},`;
  expect(file.toString('latin1', offset + expected.length, offset + expected.length + start.length)).toBe(start);
}

/** The next record the writer of a log of `lines` would have written: what a crash tears. */
function nextRecordLine(lines: string[]): string {
  const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]!) as { seq: number; hash: string }) : null;
  const key = { id: KEY_1.id, secret: Buffer.from(KEY_1.secret) };
  return encodeRecord(
    { seq: (last?.seq ?? 0) + 1, ts: '2026-11-22T04:40:15.123Z', prev: last?.hash ?? '0'.repeat(64), type: 'data', keyId: key.id, dataJson: '{"actor":"user5","action":"read","id":5}' },
    key,
  ).line;
}

async function openAppendClose(path: string): Promise<{ seq: number; hash: string }> {
  const log = await AppendOnlyLog.open(path, { key: KEY_1 });
  const head = await log.append({ after: 'damage' });
  await log.close();
  return head;
}

// Edits of the last records that leave complete lines which are not records. N = 4 records are written;
// `damaged` names the lines that are not records afterwards.
const EDITS: [string, (lines: string[]) => string[], number[]][] = [
  ['a trailing space after the last closing brace', (lines) => [...lines.slice(0, 3), lines[3]!.replace(/\}\n$/, '} \n')], [4]],
  ['a CRLF ending on the last record', (lines) => [...lines.slice(0, 3), lines[3]!.replace(/\n$/, '\r\n')], [4]],
  ['the last closing brace changed', (lines) => [...lines.slice(0, 3), lines[3]!.replace(/\}\n$/, ']\n')], [4]],
  ['an empty line appended', (lines) => [...lines, '\n'], [5]],
  ['two empty lines appended', (lines) => [...lines, '\n', '\n'], [5, 6]],
  ['a complete garbage line appended', (lines) => [...lines, 'hi\n'], [5]],
  ['the last line duplicated with a hash digit changed to a non-hex byte', (lines) => [...lines, lines[3]!.replace(/[0-9a-f]"\}\n$/, 'X"}\n')], [5]],
  ['the last line duplicated with its closing brace changed', (lines) => [...lines, lines[3]!.replace(/\}\n$/, ')\n')], [5]],
  ['a complete line that starts like the next record', (lines) => [...lines, '{"seq":5,"ts":"2026-11-22T04:40\n'], [5]],
  ['a line of NUL bytes ending in a newline', (lines) => [...lines, `${'\0'.repeat(64)}\n`], [5]],
  ['a line of text behind a NUL byte', (lines) => [...lines, '\0forged entry\n'], [5]],
  ['the second-to-last record with a trailing space', (lines) => [...lines.slice(0, 2), lines[2]!.replace(/\}\n$/, '} \n'), lines[3]!], [3]],
];

describe('complete lines at the end that are not records', () => {
  it.each(EDITS)('%s: verifyLog reports tampering on that line, never a torn tail', async (_, edit, damaged) => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 4, KEY_1);
    writeFileSync(path, edit(lines).join(''));
    const report = await verifyLog(path, { keys: KEYS });
    expect(report.status).toBe('tampered');
    expect(report.ok).toBe(false);
    expect(report.tornTail).toBeNull();
    if (damaged[0] === 3) {
      // The damaged record sits between two records: the one after it still chains to the original.
      expect(findings(report)).toContain('3:malformed-line');
    } else {
      expect(findings(report)).toEqual(malformed(damaged));
    }
  });

  it.each(EDITS.filter(([, , damaged]) => damaged[0] !== 3))(
    '%s: open() closes the lines as foreign bytes, and verifyLog still names them afterwards',
    async (_, edit, damaged) => {
      const path = scratch.path('audit.log');
      const lines = await writeLog(path, 4, KEY_1);
      const edited = edit(lines);
      writeFileSync(path, edited.join(''));
      const before = readFileSync(path);
      const validRecords = damaged[0]! - 1;
      const foreignOffset = Buffer.byteLength(edited.slice(0, validRecords).join(''));

      const head = await openAppendClose(path);
      expect(head.seq).toBe(validRecords + 2); // a recovery record, then the new one: never a restart at seq 1
      expect(readFileSync(path).subarray(0, before.length).equals(before)).toBe(true);
      await expectRecovery(path, 'foreign-bytes', foreignOffset, closed(before.subarray(foreignOffset)), validRecords + 1);

      const after = await verifyLog(path, { keys: KEYS });
      expect(after.status).toBe('tampered');
      expect(after.tornTail).toBeNull();
      expect(findings(after)).toEqual(malformed(damaged));
      expect(after.records).toBe(validRecords + 2);
      expect(after.head).toMatchObject({ seq: head.seq, hash: head.hash });
    },
  );

  it('a duplicated last line with one data byte changed stays tampering after open() and append', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 4, KEY_1);
    writeFileSync(path, [...lines, lines[3]!.replace('"user4"', '"user5"')].join(''));
    const report = await verifyLog(path, { keys: KEYS });
    expect(report.status).toBe('tampered');
    expect(report.tornTail).toBeNull();
    expect(report.tampered.some((entry) => entry.line === 5)).toBe(true);

    const head = await openAppendClose(path);
    expect(head.seq).toBeGreaterThan(4);
    const after = await verifyLog(path, { keys: KEYS });
    expect(after.status).toBe('tampered');
    expect(after.tornTail).toBeNull();
    expect(after.tampered.some((entry) => entry.line === 5)).toBe(true);
  });

  it('a log converted to CRLF: every line is tampering, and open() refuses it with ERR_NOT_A_LOG, leaving it byte for byte', async () => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 4, KEY_1);
    writeFileSync(path, lines.map((line) => line.replace(/\n$/, '\r\n')).join(''));
    const before = readFileSync(path);

    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'tampered', tornTail: null, records: 0 });
    expect(findings(report)).toEqual(malformed([1, 2, 3, 4]));

    const error = await AppendOnlyLog.open(path, { key: KEY_1 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_NOT_A_LOG' });
    expect(readFileSync(path).equals(before)).toBe(true);
    // Still refused on a second try: the first attempt left nothing behind that makes it look like a log.
    await expect(AppendOnlyLog.open(path)).rejects.toMatchObject({ code: 'ERR_NOT_A_LOG' });
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('genuine torn tails: a prefix of the next record and/or NUL bytes after the last newline', () => {
  const TEARS: [string, (next: string) => Buffer][] = [
    ['the first byte of the next record', (next) => Buffer.from(next.slice(0, 1))],
    ['the next record cut inside "{\\"seq\\":"', (next) => Buffer.from(next.slice(0, 4))],
    ['the next record cut right after "{\\"seq\\":"', (next) => Buffer.from(next.slice(0, 7))],
    ['the next record cut inside its seq', (next) => Buffer.from(next.slice(0, 8))],
    ['the next record cut inside its timestamp', (next) => Buffer.from(next.slice(0, 30))],
    ['the next record cut inside prev', (next) => Buffer.from(next.slice(0, 100))],
    ['the next record cut inside its data', (next) => Buffer.from(next.slice(0, next.indexOf('"data":') + 15))],
    ['the next record cut inside its signature', (next) => Buffer.from(next.slice(0, next.indexOf('"sig":') + 20))],
    ['the next record cut two bytes before its end', (next) => Buffer.from(next.slice(0, -2))],
    ['the next record cut right before its final newline', (next) => Buffer.from(next.slice(0, -1))],
    ['a run of NUL bytes', () => Buffer.alloc(4096)],
    ['a single NUL byte', () => Buffer.alloc(1)],
    ['a prefix of the next record followed by NUL bytes', (next) => Buffer.concat([Buffer.from(next.slice(0, 50)), Buffer.alloc(4046)])],
  ];

  it.each(TEARS)('%s: a torn tail, status intact; open() recovers it as torn-tail and the log stays intact', async (_, tear) => {
    const path = scratch.path('audit.log');
    const lines = await writeLog(path, 4, KEY_1);
    const torn = tear(nextRecordLine(lines));
    const offset = Buffer.byteLength(lines.join(''));
    appendFileSync(path, torn);
    const before = readFileSync(path);

    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'intact', records: 4, tampered: [], tornTail: { offset, length: torn.length } });

    const head = await openAppendClose(path);
    expect(head.seq).toBe(6);
    expect(readFileSync(path).subarray(0, before.length).equals(before)).toBe(true);
    await expectRecovery(path, 'torn-tail', offset, closed(torn), 5);
    const after = await verifyLog(path, { keys: KEYS });
    expect(after).toMatchObject({ status: 'intact', records: 6, tampered: [], tornTail: null });
    expect(after.recovered).toEqual([{ line: 5, seq: 5, offset, length: closed(torn).length }]);
  });

  it('a file holding only NUL bytes becomes a log whose first record is the recovery', async () => {
    const path = scratch.path('audit.log');
    writeFileSync(path, Buffer.alloc(8192));
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 0, tornTail: { offset: 0, length: 8192 } });
    const log = await AppendOnlyLog.open(path);
    expect(await log.append({ first: true })).toMatchObject({ seq: 2 });
    await log.close();
    await expectRecovery(path, 'torn-tail', 0, closed(Buffer.alloc(8192)), 1);
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', tampered: [], recovered: [{ line: 1, seq: 1, offset: 0 }] });
  });
});

// Bytes someone else appended after the last record. `lines` is how many lines they take once closed.
const FOREIGN: [string, () => Buffer][] = [
  ['a text line', () => Buffer.from('hi\n')],
  ['text without a newline', () => Buffer.from('hi')],
  ['several text lines', () => Buffer.from('one\ntwo\nthree\n')],
  ['binary junk without a newline at its end', () => Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x0a, 0xff, 0xfe, 0x01])],
  ['binary junk ending in a newline', () => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a])],
  ['a line of another JSON Lines format', () => Buffer.from('{"level":30,"msg":"x"}\n')],
  ['2 MB of text lines', () => Buffer.from(`${'t'.repeat(999)}\n`.repeat(2 * 1024))],
  ['10 MB of text lines, more than the tail scanner reads at once', () => Buffer.from(`${'u'.repeat(4095)}\n`.repeat(10 * 256))],
  ['one 3 MB line without a newline, longer than any record', () => Buffer.alloc(3 * 1024 * 1024, 0x76)],
];

describe('foreign bytes after the last record', () => {
  it.each(FOREIGN)('%s: verifyLog reports them as malformed lines, not as a torn tail', async (_, bytes) => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3);
    const foreign = bytes();
    appendFileSync(path, foreign);
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'tampered', tornTail: null, records: 3 });
    expect(findings(report)).toEqual(malformed(lineNumbers(foreign, 4)));
  });

  it.each(FOREIGN)('%s: open() closes them with a foreign-bytes recovery, appends go on, and verifyLog still reports them', async (_, bytes) => {
    const path = scratch.path('audit.log');
    await writeLog(path, 3, KEY_1);
    const offset = readFileSync(path).length;
    const foreign = bytes();
    appendFileSync(path, foreign);
    const before = readFileSync(path);

    const log = await AppendOnlyLog.open(path, { key: KEY_1 });
    expect(log.head).toMatchObject({ seq: 4 });
    expect(await log.append({ after: 'foreign' })).toMatchObject({ seq: 5 });
    await log.close();

    expect(readFileSync(path).subarray(0, before.length).equals(before)).toBe(true);
    await expectRecovery(path, 'foreign-bytes', offset, closed(foreign), 4);
    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'tampered', tornTail: null, records: 5, head: { seq: 5 } });
    expect(findings(report)).toEqual(malformed(lineNumbers(closed(foreign), 4)));
  });

  const RUNNING: [string, () => Buffer, 'sync' | 'none', 'append' | 'appendSync'][] = [
    ['a text line, then append()', () => Buffer.from('hi\n'), 'sync', 'append'],
    ['text without a newline, then append()', () => Buffer.from('hi'), 'sync', 'append'],
    ['text without a newline, then appendSync()', () => Buffer.from('hi'), 'sync', 'appendSync'],
    ['binary junk, then append() with durability none', () => Buffer.from([0x00, 0xff, 0x0a, 0x41]), 'none', 'append'],
    ['10 MB of text, then append()', () => Buffer.from(`${'w'.repeat(4095)}\n`.repeat(10 * 256)), 'sync', 'append'],
  ];

  it.each(RUNNING)('while a writer is open: %s succeeds, closing them first', async (_, bytes, durability, method) => {
    const path = scratch.path('audit.log');
    const log = await AppendOnlyLog.open(path, { key: KEY_1, durability });
    for (let i = 1; i <= 3; i += 1) await log.append({ i });
    await log.flush();
    const offset = readFileSync(path).length;
    const foreign = bytes();
    appendFileSync(path, foreign);

    const head = method === 'append' ? await log.append({ after: 'foreign' }) : log.appendSync({ after: 'foreign' });
    expect(head.seq).toBe(5);
    expect(await log.append({ later: true })).toMatchObject({ seq: 6 });
    await log.close();

    await expectRecovery(path, 'foreign-bytes', offset, closed(foreign), 4);
    const report = await verifyLog(path, { keys: KEYS });
    expect(report).toMatchObject({ status: 'tampered', tornTail: null, records: 6, head: { seq: 6 } });
    expect(findings(report)).toEqual(malformed(lineNumbers(closed(foreign), 4)));
  });

  it('foreign bytes are closed once: reopening and appending again adds no second recovery', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2);
    appendFileSync(path, 'hi');
    await openAppendClose(path);
    const log = await AppendOnlyLog.open(path);
    expect(log.head).toMatchObject({ seq: 4 });
    await log.append({ again: true });
    await log.close();
    expect((await records(path)).map((record) => record.type)).toEqual(['data', 'data', 'recovery', 'data', 'data']);
    expect(findings(await verifyLog(path))).toEqual(malformed([3]));
  });

  it('foreign bytes written twice, with records between, are two recoveries and two findings', async () => {
    const path = scratch.path('audit.log');
    await writeLog(path, 2);
    appendFileSync(path, 'first\n');
    await openAppendClose(path); // seq 3 recovery, seq 4 data: lines 3, 4, 5
    appendFileSync(path, 'second');
    await openAppendClose(path); // line 6 "second~", seq 5 recovery, seq 6 data
    expect((await records(path)).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const report = await verifyLog(path);
    expect(report).toMatchObject({ status: 'tampered', records: 6, tornTail: null });
    expect(findings(report)).toEqual(malformed([3, 6]));
  });
});

describe('files with no valid record at their end stay refused and untouched', () => {
  it.each([
    ['a plain text file', Buffer.from('Nov 22 04:00:00 host sshd[1]: Accepted publickey\nNov 22 04:00:01 host cron[2]: job\n')],
    ['a plain text file without a final newline', Buffer.from('line one\nline two')],
    ['another JSON Lines format', Buffer.from('{"level":30,"msg":"x"}\n{"level":30,"msg":"y"}\n')],
    ['binary bytes', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x0a, 0x00, 0xff])],
    ['a single empty line', Buffer.from('\n')],
    ['garbage followed by what looks like a torn record', Buffer.from('hi\n{"seq":1,"ts":"2026')],
    ['6 MB of text', Buffer.from(`${'z'.repeat(1023)}\n`.repeat(6 * 1024))],
  ])('%s: ERR_NOT_A_LOG', async (_, bytes) => {
    const path = scratch.path('other.file');
    writeFileSync(path, bytes);
    await expect(AppendOnlyLog.open(path)).rejects.toMatchObject({ code: 'ERR_NOT_A_LOG' });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});
