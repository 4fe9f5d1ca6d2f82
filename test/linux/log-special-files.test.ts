// verifyLog, readLog and the CLI refuse a FIFO, a socket or a device with ENOTSUP instead of reading it forever (or /dev/null as an intact log).
import { spawnSync } from 'node:child_process';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { DIST, ROOT, runNodeJson, useAuditFile } from './helpers';

const CLI = join(ROOT, 'dist', 'cli.js');
const audit = useAuditFile();
let server: Server | undefined;

afterEach(() => {
  server?.close();
  server = undefined;
});

// Each case runs in a child with a hard timeout: reading /dev/zero or a FIFO never ends, and must fail
// the test rather than hang the suite.
const TIMEOUT_MS = 10_000;

async function special(name: string): Promise<string> {
  if (name === 'fifo' || name === 'socket') {
    const path = join(audit.dir, name);
    if (name === 'fifo') {
      const made = spawnSync('mkfifo', [path], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr}`);
    } else {
      server = createServer();
      await new Promise<void>((resolve) => server!.listen(path, resolve));
    }
    return path;
  }
  return name;
}

const KINDS: Record<string, RegExp> = { fifo: /is a FIFO/, socket: /is a socket/, '/dev/null': /is a device/, '/dev/zero': /is a device/ };

describe.each(Object.keys(KINDS))('%s', (name) => {
  it('verifyLog and readLog (with and without from) reject with ENOTSUP', async () => {
    const path = await special(name);
    const result = runNodeJson<Record<string, unknown>>(
      `const api = require(${JSON.stringify(DIST)});
       const path = process.argv[1];
       const outcome = (run) => run().then(
         () => 'resolved',
         (e) => ({ code: e.code, message: e.message, isAppendOnlyError: e instanceof api.AppendOnlyError }),
       );
       const drain = async (records) => { for await (const record of records) {} };
       (async () => {
         console.log(JSON.stringify({
           verify: await outcome(() => api.verifyLog(path)),
           read: await outcome(() => drain(api.readLog(path))),
           readFrom: await outcome(() => drain(api.readLog(path, { from: 5 }))),
         }));
       })();`,
      { args: [path], timeoutMs: TIMEOUT_MS },
    );
    for (const call of ['verify', 'read', 'readFrom']) {
      expect(result[call]).toMatchObject({ code: 'ENOTSUP', isAppendOnlyError: true, message: expect.stringMatching(KINDS[name]!) });
    }
  });

  it('fs-append-only tail, verify and head exit 2 with one line naming it', async () => {
    const path = await special(name);
    for (const command of ['tail', 'verify', 'head']) {
      const result = spawnSync(process.execPath, [CLI, command, path], { encoding: 'utf8', timeout: TIMEOUT_MS });
      expect({ command, status: result.status, signal: result.signal }).toEqual({ command, status: 2, signal: null });
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^fs-append-only: ENOTSUP: a log must be a regular file, and ${path} ${KINDS[name]!.source}[^\\n]*\\n$`));
    }
  });
});
