// The golden vectors in test/vectors: what the format documents, checked three ways.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { verifyLog } from '../../lib/index';
import { encodeRecord } from '../../lib/log/format';

const VECTORS = join(__dirname, '..', 'vectors');
const spec = JSON.parse(readFileSync(join(VECTORS, 'vectors.json'), 'utf8')) as {
  keys: Record<string, string>;
  files: Record<string, { head: { seq: number; hash: string } }>;
};
const names = Object.keys(spec.files);
const linesOf = (name: string): Buffer[] => {
  const bytes = readFileSync(join(VECTORS, name));
  const lines: Buffer[] = [];
  for (let start = 0, end = bytes.indexOf(10); end !== -1; start = end + 1, end = bytes.indexOf(10, start)) lines.push(bytes.subarray(start, end));
  return lines;
};

describe.each(names)('%s', (name) => {
  it('verifies intact (with its keys when signed), to the documented head', async () => {
    const report = await verifyLog(join(VECTORS, name), name.startsWith('signed') ? { keys: spec.keys } : {});
    expect(report).toMatchObject({ status: 'intact', head: spec.files[name]!.head, tampered: [], tornTail: null });
  });

  it('matches the README rules, applied by hand: SHA-256 and HMAC over the bytes before the field', () => {
    let prev = '0'.repeat(64);
    for (const line of linesOf(name)) {
      if (!line.toString('latin1').endsWith('}')) continue; // torn bytes closed by "~"
      const text = line.toString('latin1');
      const hashAt = text.lastIndexOf(',"hash":"');
      const record = JSON.parse(line.toString('utf8')) as { prev: string; hash: string; keyId?: string; sig?: string };
      expect(createHash('sha256').update(line.subarray(0, hashAt)).digest('hex')).toBe(record.hash);
      if (record.keyId !== undefined) {
        const sigAt = text.lastIndexOf(',"sig":"');
        expect(createHmac('sha256', spec.keys[record.keyId]!).update(line.subarray(0, sigAt)).digest('hex')).toBe(record.sig);
      }
      expect(record.prev).toBe(prev);
      prev = record.hash;
    }
    expect(prev).toBe(spec.files[name]!.head.hash);
  });

  it('is what the encoder writes today, byte for byte', () => {
    for (const line of linesOf(name)) {
      if (!line.toString('latin1').endsWith('}')) continue;
      const record = JSON.parse(line.toString('utf8')) as { seq: number; ts: string; prev: string; type?: 'recovery'; keyId?: string; data: unknown };
      const key = record.keyId !== undefined ? { id: record.keyId, secret: Buffer.from(spec.keys[record.keyId]!) } : null;
      const fields = { seq: record.seq, ts: record.ts, prev: record.prev, type: record.type ?? 'data', keyId: record.keyId ?? null, dataJson: JSON.stringify(record.data) } as const;
      expect(encodeRecord(fields, key).line).toBe(`${line.toString('utf8')}\n`);
    }
  });
});

it('the recovered vector reports its torn bytes as recovered, not as tampering', async () => {
  const report = await verifyLog(join(VECTORS, 'recovered.jsonl'));
  expect(report.recovered).toEqual((spec as unknown as { recovered: unknown }).recovered);
});
