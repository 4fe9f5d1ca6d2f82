// Segment files of a directory log: their names, in chain order, and what a seal record says.
import { readdirSync } from 'node:fs';

import type { ParsedLine } from './format';

/** `<first seq, 16 digits>.jsonl`: names sort in chain order, and no two segments share a first line. */
const SEGMENT_NAME = /^(\d{16})\.jsonl$/;

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.jsonl`;
}

/** The first seq a segment's name promises, or null when the name is not a segment's. */
export function segmentFirstSeq(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  return match === null ? null : Number(match[1]);
}

/** The segment files of `dir`, in chain order (other entries are not segments and are left alone). */
export function listSegments(dir: string | Buffer): string[] {
  const names = readdirSync(dir as string).filter((name) => SEGMENT_NAME.test(name));
  return names.sort();
}

/** What a seal record holds: the file that continues the chain, or null for a finished log. */
export interface SealData {
  next: string | null;
}

/** The next segment a seal record names; null for a finished log; undefined when the record says nothing usable. */
export function sealedNext(line: ParsedLine): string | null | undefined {
  try {
    const data = JSON.parse(line.dataJson) as Partial<SealData>;
    if (data.next === null) return null;
    if (typeof data.next === 'string' && SEGMENT_NAME.test(data.next)) return data.next;
  } catch {
    // not JSON: reported by the verifier
  }
  return undefined;
}
