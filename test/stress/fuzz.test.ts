// Property-based fuzzing: random logs under random damage, random values into every public function
// and the CLI. The verifier never throws or hangs, finds every change to a record (with an anchor),
// and every call answers with a result or a clear error.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AppendOnlyLog, verifyLog } from '../../lib/index';
import { DIST, ROOT, makeTempDir, removeTree } from '../linux/helpers';

let sandbox: string;
beforeAll(() => {
  sandbox = makeTempDir();
  chmodSync(sandbox, 0o777);
});
afterAll(() => removeTree(sandbox));

const KEY = { id: 'fuzz', secret: 'a fuzzing secret of 32 bytes....' };

type Mutation =
  | { kind: 'byte'; index: number; value: number }
  | { kind: 'delete' | 'duplicate'; line: number }
  | { kind: 'swap'; line: number; other: number }
  | { kind: 'insert'; line: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'huge'; line: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), index: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), line: fc.nat(), bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('huge' as const), line: fc.nat() }),
);

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = bytes.indexOf(10); end !== -1; start = end + 1, end = bytes.indexOf(10, start)) lines.push(bytes.subarray(start, end + 1));
  return lines;
}

/** The damaged bytes, or null when the mutation happens to change nothing. */
function mutate(original: Buffer, change: Mutation): Buffer | null {
  const lines = splitLines(original);
  const at = (n: number): number => n % lines.length;
  switch (change.kind) {
    case 'byte': {
      const index = change.index % original.length;
      if (original[index] === change.value) return null;
      const copy = Buffer.from(original);
      copy[index] = change.value;
      return copy;
    }
    case 'delete':
      return Buffer.concat(lines.filter((_, i) => i !== at(change.line)));
    case 'duplicate':
      return Buffer.concat(lines.flatMap((line, i) => (i === at(change.line) ? [line, line] : [line])));
    case 'swap': {
      const [a, b] = [at(change.line), at(change.other)];
      if (a === b) return null;
      const copy = [...lines];
      [copy[a], copy[b]] = [copy[b]!, copy[a]!];
      return Buffer.concat(copy);
    }
    case 'insert':
      return Buffer.concat([...lines.slice(0, at(change.line)), Buffer.from(change.bytes), Buffer.from('\n'), ...lines.slice(at(change.line))]);
    case 'huge':
      return Buffer.concat([...lines.slice(0, at(change.line)), Buffer.alloc(1_100_000, 0x7b), Buffer.from('\n'), ...lines.slice(at(change.line))]);
    case 'truncate': {
      const cut = change.at % original.length;
      return original.subarray(0, cut);
    }
  }
}

describe('the verifier under random damage', () => {
  it('never throws, and reports every change to a record as tampered once the head is anchored', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        mutation,
        async (values, signed, change) => {
          run += 1;
          const path = join(sandbox, `log-${run}.log`);
          const log = await AppendOnlyLog.open(path, { durability: 'none', ...(signed ? { key: KEY } : {}) });
          for (const value of values) await log.append(value);
          const anchor = log.head!;
          await log.close();
          const original = readFileSync(path);
          const damaged = mutate(original, change);
          if (damaged !== null) writeFileSync(path, damaged);

          const report = await verifyLog(path, { anchor, ...(signed ? { keys: { [KEY.id]: KEY.secret } } : {}) });
          rmSync(path);
          // An insert of torn-looking bytes at the very end changes no record; everything else does.
          const changesRecords = damaged !== null && !(change.kind === 'insert' && damaged.subarray(0, original.length).equals(original));
          if (changesRecords) expect({ change: change.kind, status: report.status }).toEqual({ change: change.kind, status: 'tampered' });
          else expect(report.tampered.filter((entry) => entry.reason !== 'malformed-line')).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads a 1 GB line of NUL bytes in bounded memory (too long to be torn bytes: malformed)', () => {
    const path = join(sandbox, 'huge.log');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 1024 ** 3);
    closeSync(fd);
    const result = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(DIST)}).verifyLog(process.argv[1]).then((r) => console.log(JSON.stringify({ status: r.status, reasons: r.tampered.map((t) => t.reason), rss: process.resourceUsage().maxRSS })))`, '--', path],
      { encoding: 'utf8', timeout: 120_000 },
    );
    rmSync(path);
    const outcome = JSON.parse(result.stdout) as { status: string; reasons: string[]; rss: number };
    expect(outcome).toMatchObject({ status: 'tampered', reasons: ['malformed-line'] });
    expect(outcome.rss / 1024).toBeLessThan(100); // MB
  });
});

// Runs in a child as nobody without CAP_LINUX_IMMUTABLE, in the sandbox: random paths cannot flag or
// create anything outside it. Every call must return, or throw a TypeError, RangeError or AppendOnlyError.
const CALLS = `
  const api = require(${JSON.stringify(DIST)});
  const values = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'), (key, value) =>
    value && value.$buffer ? Buffer.from(value.$buffer, 'base64') : value && value.$url ? new URL(value.$url) : value);
  const expected = (e) => e instanceof TypeError || e instanceof RangeError || e instanceof api.AppendOnlyError;
  const bad = [];
  const check = (name, run) => {
    try {
      const result = run();
      if (result && typeof result.then === 'function') return result.then(() => {}, (e) => { if (!expected(e)) bad.push(name + ': ' + e.stack); });
    } catch (e) { if (!expected(e)) bad.push(name + ': ' + e.stack); }
  };
  (async () => {
    for (const [path, options] of values) {
      for (const name of ['protectAppendOnly', 'unprotectAppendOnly', 'setImmutable', 'clearImmutable']) {
        check(name + 'Sync', () => api[name + 'Sync'](path, options));
        await check(name, () => api[name](path, options));
      }
      for (const name of ['isAppendOnly', 'isImmutable', 'getFileAttributes']) {
        check(name + 'Sync', () => api[name + 'Sync'](path));
        await check(name, () => api[name](path));
      }
      check('platformSupportInfo', () => api.platformSupportInfo(options));
      check('platformSupportInfo path', () => api.platformSupportInfo({ path }));
      await check('verifyLog', () => api.verifyLog('fuzz.log', options));
      await check('readLog', async () => { for await (const r of api.readLog('fuzz.log', options)) {} });
      await check('open', async () => {
        const log = await api.AppendOnlyLog.open('fuzz.log', options);
        await check('append', () => log.append(path));
        check('appendSync', () => log.appendSync(options));
        check('rotateKey', () => log.rotateKey(path));
        await log.close();
      });
    }
    console.log(JSON.stringify(bad));
  })();`;

const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];

function encode(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_, inner: unknown) => {
      if (typeof inner === 'bigint' || typeof inner === 'symbol' || typeof inner === 'function') return String(inner);
      if (inner instanceof Uint8Array) return { $buffer: Buffer.from(inner).toString('base64') };
      if (inner instanceof URL) return { $url: inner.href };
      return inner;
    }),
  );
}

describe('random values into the public functions', () => {
  it('every call returns, or throws a TypeError, RangeError or AppendOnlyError', () => {
    const path = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.uint8Array({ maxLength: 20 }),
      fc.constantFrom('fuzz.log', '.', '/dev/null', '', 'a\0b', new URL('file:///nonexistent'), new URL('http://x/')),
    );
    const options = fc.oneof(
      fc.anything(),
      fc.record({ strict: fc.anything(), system: fc.anything(), protect: fc.anything(), durability: fc.anything(), key: fc.anything() }, { requiredKeys: [] }),
      fc.record({ from: fc.anything(), limit: fc.anything(), anchor: fc.anything(), since: fc.anything(), keys: fc.anything() }, { requiredKeys: [] }),
    );
    const samples = fc.sample(fc.tuple(path, options), { numRuns: 300, seed: 20261122 });
    const input = join(sandbox, 'calls.json');
    writeFileSync(input, JSON.stringify(samples.map(encode)));
    const result = spawnSync('setpriv', [...AS_NOBODY, process.execPath, '-e', CALLS, '--', input], { cwd: sandbox, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual([]);
  });
});

describe('random arguments to the CLI', () => {
  it('always exits 0, 1 or 2, every stderr line one prefixed message (one per file), never a stack trace', () => {
    const commands = ['info', 'protect', 'unprotect', 'seal', 'unseal', 'status', 'append', 'verify', 'tail', 'head', '--json', '-n', '--key', '--anchor', '--since', '--path'];
    const argv = fc.array(fc.oneof(fc.constantFrom(...commands), fc.string({ maxLength: 12 }), fc.constantFrom('fuzz.log', 'x=y', '1:ab', '-1')), { maxLength: 5 });
    for (const args of fc.sample(argv, { numRuns: 60, seed: 20261122 })) {
      const result = spawnSync('setpriv', [...AS_NOBODY, process.execPath, join(ROOT, 'dist', 'cli.js'), ...args], { cwd: sandbox, encoding: 'utf8', input: '', timeout: 30_000 });
      expect({ args, status: [0, 1, 2].includes(result.status!) }).toEqual({ args, status: true });
      expect({ args, stack: /\n\s+at /.test(result.stderr) }).toEqual({ args, stack: false });
      expect({ args, stderr: result.stderr }).toEqual({ args, stderr: expect.stringMatching(/^(fs-append-only: [^\n]*\n)*$/) });
    }
  });
});
