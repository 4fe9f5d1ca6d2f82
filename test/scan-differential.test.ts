// One record grammar: verifyLog with the addon's scanner and verifyLog on its JavaScript path alone
// (FS_APPEND_ONLY_NATIVE_SCAN=0, in a child) give identical reports on random, randomly damaged logs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { platformCapabilities } from '../lib/binding';
import { damage, damageArbitrary, makeLog, random, verifyInChild } from './scan-logs';

const dir = mkdtempSync(join(tmpdir(), 'fsao-differential-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the native scanner is a subset of the JavaScript verifier', () => {
  it('runs here with the scanner', () => {
    expect(platformCapabilities().nativeScan).toBe(true);
  });

  it('gives identical reports on 300 to 3,000 records with random damage', async () => {
    let run = 0;
    let nativeScans = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 300, max: 3000 }),
        fc.integer(),
        fc.array(damageArbitrary(['flip', 'flip-field', 'delete', 'duplicate', 'swap', 'junk', 'truncate', 'at-chunk-edge', 'rebuild']), { maxLength: 6 }),
        fc.option(fc.record({ seed: fc.integer(), honest: fc.boolean() }), { nil: undefined }),
        async (count, seed, damages, anchorChoice) => {
          const log = makeLog(count, seed);
          const file = join(dir, `log-${(run += 1)}.log`);
          writeFileSync(file, damage(log, damages));
          const options: Record<string, unknown> = {};
          if (anchorChoice !== undefined) {
            const seq = 1 + Math.floor(random(anchorChoice.seed)() * count);
            options.anchor = { seq, hash: anchorChoice.honest ? log.hashes[seq - 1]! : 'f'.repeat(64) };
          }
          const native = verifyInChild(file, options, true);
          const javascript = verifyInChild(file, options, false);
          expect(native.nativeScan).toBe(true);
          expect(javascript).toMatchObject({ nativeScan: false, scans: 0 });
          expect(javascript.report).toEqual(native.report);
          nativeScans += native.scans;
          rmSync(file);
        },
      ),
      { numRuns: 40, endOnFailure: true },
    );
    // The native side did scan: the comparison is not of one path with itself.
    expect(nativeScans).toBeGreaterThan(0);
  }, 300_000);
});
