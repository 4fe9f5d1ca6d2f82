// The pino integration with the real pino 9 and 10: the transport in pino's worker thread and the
// in-process destination, each ended the ways a process ends, then checked with verifyLog.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { type LogRecord, readLog, verifyLog } from '../../lib/index';
import appendOnlyTransport, { appendOnlyDestination } from '../../lib/integrations/pino';
import { ROOT, lsattr, makeTempDir, removeTree, useAuditFile } from './helpers';

const WRITER = join(ROOT, 'test', 'linux', 'pino-writer.js');
const LINES = 2000;
const SECRET = 'a'.repeat(32);
const PINOS = ['pino', 'pino10'] as const;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  records: LogRecord[];
}

async function records(path: string): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of readLog(path)) all.push(record);
  return all;
}

async function run(pino: string, mode: 'transport' | 'destination', how: string, path: string, options: object = {}): Promise<Outcome> {
  const child = spawnSync(process.execPath, [WRITER, pino, mode, how, path, String(LINES), JSON.stringify(options)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, records: await records(path) };
}

/** All N lines, in order, as pino wrote them; then the fatal line when there is one. */
function expectAllLines(outcome: Outcome, fatal: string | null): void {
  const data = outcome.records.map((record) => record.data as Record<string, unknown>);
  expect(data.length).toBe(LINES + (fatal === null ? 0 : 1));
  data.slice(0, LINES).forEach((line, i) => {
    if (line.i !== i || line.msg !== `line ${i}`) expect({ at: i, line }).toEqual({ at: i, line: { i, msg: `line ${i}` } });
  });
  expect(data[0]).toMatchObject({ level: 30, i: 0, user: 'alice', nested: { ok: true }, msg: 'line 0' });
  expect(Object.keys(data[0]!)).toEqual(['level', 'time', 'pid', 'hostname', 'i', 'user', 'nested', 'msg']);
  expect(typeof data[0]!.time).toBe('number');
  if (fatal !== null) expect(data[LINES]).toMatchObject({ level: 60, msg: fatal });
}

const ENDINGS = {
  return: { status: 0, fatal: null },
  exit: { status: 0, fatal: null },
  fatal: { status: 1, fatal: 'going down' },
  sigterm: { status: 143, fatal: null },
} as const;

describe.each(PINOS)('pino.transport({ target: "fs-append-only/pino" }) with %s', (pino) => {
  const temp = useAuditFile(); // its directory: the logs below are new files

  for (const [how, expected] of Object.entries(ENDINGS)) {
    it(`keeps every line when the process ends by ${how}`, async () => {
      const path = join(temp.dir, 'pino.log');
      const outcome = await run(pino, 'transport', how, path, { key: { id: 'k1', secret: SECRET } });
      expect(outcome.stderr).toBe('');
      expect(outcome.status).toBe(expected.status);
      expectAllLines(outcome, expected.fatal);
      const report = await verifyLog(path, { keys: { k1: SECRET } });
      expect(report).toMatchObject({ status: 'intact', records: outcome.records.length, signaturesChecked: true });
    });
  }

  it("keeps every line with durability 'none' and process.exit()", async () => {
    const path = join(temp.dir, 'none.log');
    const outcome = await run(pino, 'transport', 'exit', path, { durability: 'none' });
    expect(outcome).toMatchObject({ status: 0, stderr: '' });
    expectAllLines(outcome, null);
    expect((await verifyLog(path)).status).toBe('intact');
  });

  it('takes a Buffer secret (a Uint8Array after cloning) and a secret file', async () => {
    const hex = Buffer.from(SECRET).toString('hex');
    const fromBuffer = join(temp.dir, 'buffer.log');
    const outcome = await run(pino, 'transport', 'exit', fromBuffer, { key: { id: 'k1', secretHex: hex } });
    expect(outcome).toMatchObject({ status: 0, stderr: '' });
    expect(await verifyLog(fromBuffer, { keys: { k1: SECRET } })).toMatchObject({ status: 'intact', records: LINES });

    const secretFile = join(temp.dir, 'secret');
    writeFileSync(secretFile, `${SECRET}\n`); // as echo writes it: the newline is not part of the secret
    const fromFile = join(temp.dir, 'file.log');
    const second = await run(pino, 'transport', 'exit', fromFile, { key: { id: 'k1', secretFile } });
    expect(second).toMatchObject({ status: 0, stderr: '' });
    expect(await verifyLog(fromFile, { keys: { k1: SECRET } })).toMatchObject({ status: 'intact', records: LINES });
  });

  it('sets the append-only flag with protect', async () => {
    const path = join(temp.dir, 'protected.log');
    const outcome = await run(pino, 'transport', 'exit', path, { protect: 'required' });
    expect(outcome).toMatchObject({ status: 0, stderr: '' });
    expect(lsattr(path)).toContain('a');
  });

});

it('pino 10: logger.flush(cb) calls back once every line is in the file', async () => {
  const dir = makeTempDir();
  try {
    const outcome = await run('pino10', 'transport', 'flush', join(dir, 'flush.log'));
    expect(outcome).toMatchObject({ status: 0, stderr: '', stdout: `${LINES}\n` });
  } finally {
    removeTree(dir);
  }
});

describe.each(PINOS)('pino(appendOnlyDestination()) with %s', (pino) => {
  const temp = useAuditFile(); // its directory: the logs below are new files
  const DESTINATION_ENDINGS = { ...ENDINGS, uncaught: { status: 1, fatal: 'uncaught' } };

  for (const [how, expected] of Object.entries(DESTINATION_ENDINGS)) {
    it(`keeps every line when the process ends by ${how}`, async () => {
      const path = join(temp.dir, 'pino.log');
      const outcome = await run(pino, 'destination', how, path, { key: { id: 'k1', secret: SECRET }, durability: 'none' });
      expect(outcome.stderr).toBe('');
      expect(outcome.status).toBe(expected.status);
      expectAllLines(outcome, expected.fatal);
      const report = await verifyLog(path, { keys: { k1: SECRET } });
      expect(report).toMatchObject({ status: 'intact', records: outcome.records.length });
    });
  }
});

describe('appendOnlyDestination in this process', () => {
  const temp = useAuditFile();

  it('holds lines written before ready, keeps text that is not JSON, flushes on logger.flush(cb) and closes on end()', async () => {
    const path = join(temp.dir, 'inprocess.log');
    const destination = appendOnlyDestination({ path });
    expect(destination.ready).toBe(false);
    // Before the log is open, and a line split across writes, with CRLF.
    destination.write('{"msg":"first"}\n{"msg":');
    destination.write('"second"}\r\nnot json\n');
    expect(() => destination.flushSync()).toThrow(expect.objectContaining({ code: 'ERR_LOG_NOT_READY' }) as Error);
    await once(destination, 'ready');
    const logger = pino(destination);
    logger.info({ n: 3 }, 'third');
    await new Promise<void>((resolve, reject) => logger.flush((error) => (error ? reject(error) : resolve())));
    const data = (await records(path)).map((record) => record.data);
    expect(data).toEqual([{ msg: 'first' }, { msg: 'second' }, 'not json', expect.objectContaining({ level: 30, n: 3, msg: 'third' })]);
    const closed = once(destination, 'close');
    destination.end();
    await closed;
    expect(destination.writable).toBe(false);
    expect((await verifyLog(path)).status).toBe('intact');
  });
});

describe('options', () => {
  const temp = useAuditFile();

  it('are checked before the log is opened, naming the option, as AppendOnlyLog.open() checks its own', async () => {
    const path = join(temp.dir, 'never.log');
    await expect(appendOnlyTransport({ path, durabilty: 'none' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining('"options.durabilty" property is not an option'),
    });
    await expect(appendOnlyTransport({ path, key: { id: 'k1' } } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining('exactly one of secret and secretFile'),
    });
    await expect(appendOnlyTransport({ path, key: { id: 'k1', secret: 'short' } })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(appendOnlyTransport({} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => appendOnlyDestination({ path, protect: 'yes' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }) as Error,
    );
    expect(existsSync(path)).toBe(false);
  });

  it('pass checkpoints on to the log', async () => {
    // A signer that is not a key: the log's own check answers, naming the option it was given.
    const path = join(temp.dir, 'checkpoints.log');
    await expect(appendOnlyTransport({ path, checkpoints: { signer: 'not a key' } })).rejects.toMatchObject({
      message: expect.stringContaining('options.checkpoints'),
    });
  });
});
