// What the flags make the kernel refuse, tried by a child process without CAP_LINUX_IMMUTABLE.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { protectAppendOnlySync, setImmutableSync } from '../../lib/index';
import { DIST, runNodeJson, useAuditFile } from './helpers';

const ATTACKER = readFileSync(join(__dirname, 'attacker.js'), 'utf8');
const ORIGINAL = 'seq=1 login alice\nseq=2 export report\n';

type Results = Record<string, string>;

const REWRITES = [
  'overwrite',
  'openWithoutAppend',
  'openTruncate',
  'openAppendTruncate',
  'truncate',
  'unlink',
  'rename',
  'renameOver',
  'link',
  'chmod',
  'chown',
  'utimes',
];

describe('kernel enforcement', () => {
  const audit = useAuditFile(ORIGINAL);

  it('an unprotected file can be rewritten (the attack works without the flag)', () => {
    const results = runNodeJson<Results>(ATTACKER, { args: [audit.file], dropCapability: true });
    expect(results.overwrite).toBe('ok');
    expect(results.truncate).toBe('ok');
  });

  it('append-only: every rewrite is refused with EPERM, appends land at the end, no byte changes', () => {
    expect(protectAppendOnlySync(audit.file)).toBe(true);
    const results = runNodeJson<Results>(ATTACKER, { args: [audit.file], dropCapability: true });
    for (const operation of REWRITES) expect({ operation, code: results[operation] }).toEqual({ operation, code: 'EPERM' });
    expect(results.append).toBe('ok');
    expect(results.positionedAppend).toBe('ok');
    expect(readFileSync(audit.file, 'utf8')).toBe(`${ORIGINAL}appended\ntail\n`);
  });

  it('immutable: appends are refused too, and the bytes are unchanged', () => {
    expect(setImmutableSync(audit.file)).toBe(true);
    const results = runNodeJson<Results>(ATTACKER, { args: [audit.file], dropCapability: true });
    for (const operation of REWRITES) expect({ operation, code: results[operation] }).toEqual({ operation, code: 'EPERM' });
    expect(results.append).toBe('EPERM');
    expect(results.positionedAppend).toBe('EPERM');
    expect(readFileSync(audit.file, 'utf8')).toBe(ORIGINAL);
  });

  it('the attacker cannot clear the flag without the capability', () => {
    protectAppendOnlySync(audit.file);
    const code = runNodeJson<string>(
      `const a = require(${JSON.stringify(DIST)});
       try { a.unprotectAppendOnlySync(process.argv[1]); console.log(JSON.stringify('cleared')); }
       catch (e) { console.log(JSON.stringify(e.code)); }`,
      { args: [audit.file], dropCapability: true },
    );
    expect(code).toBe('EPERM');
  });
});
