// What the flags make the kernel refuse, tried by a child process without CAP_LINUX_IMMUTABLE.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { protectAppendOnlySync, setImmutableSync } from '../../lib/index';
import { DIST, makeTempDir, removeTree, runNodeJson } from './helpers';

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
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir();
    file = join(dir, 'audit.log');
    writeFileSync(file, ORIGINAL);
  });
  afterEach(() => removeTree(dir));

  it('an unprotected file can be rewritten (the attack works without the flag)', () => {
    const results = runNodeJson<Results>(ATTACKER, { args: [file], dropCapability: true });
    expect(results.overwrite).toBe('ok');
    expect(results.truncate).toBe('ok');
  });

  it('append-only: every rewrite is refused with EPERM, appends land at the end, no byte changes', () => {
    expect(protectAppendOnlySync(file)).toBe(true);
    const results = runNodeJson<Results>(ATTACKER, { args: [file], dropCapability: true });
    for (const operation of REWRITES) expect({ operation, code: results[operation] }).toEqual({ operation, code: 'EPERM' });
    expect(results.append).toBe('ok');
    expect(results.positionedAppend).toBe('ok');
    expect(readFileSync(file, 'utf8')).toBe(`${ORIGINAL}appended\ntail\n`);
  });

  it('immutable: appends are refused too, and the bytes are unchanged', () => {
    expect(setImmutableSync(file)).toBe(true);
    const results = runNodeJson<Results>(ATTACKER, { args: [file], dropCapability: true });
    for (const operation of REWRITES) expect({ operation, code: results[operation] }).toEqual({ operation, code: 'EPERM' });
    expect(results.append).toBe('EPERM');
    expect(results.positionedAppend).toBe('EPERM');
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
  });

  it('the attacker cannot clear the flag without the capability', () => {
    protectAppendOnlySync(file);
    const code = runNodeJson<string>(
      `const a = require(${JSON.stringify(DIST)});
       try { a.unprotectAppendOnlySync(process.argv[1]); console.log(JSON.stringify('cleared')); }
       catch (e) { console.log(JSON.stringify(e.code)); }`,
      { args: [file], dropCapability: true },
    );
    expect(code).toBe('EPERM');
  });
});
