// One append-throughput measurement in a fresh process: node append.js <variant> <records> <file>.
// Prints { seconds, records, bytes, rssMB }. Timed until the file is closed.
'use strict';
const fs = require('node:fs');

const { AppendOnlyLog, generateCheckpointKey } = require('../../dist');
const { auditEvent, peakRssMB } = require('../event');

const [variant, count, file] = process.argv.slice(2);
const N = Number(count);
const KEY = { id: 'bench', secret: 'a benchmark secret, 32 bytes....' };

const variants = {
  // Many appends in flight: the promises are kept and awaited every 10,000.
  async ours(options = {}) {
    const log = await AppendOnlyLog.open(file, { durability: 'none', ...options });
    const start = process.hrtime.bigint();
    let pending = [];
    for (let i = 0; i < N; i += 1) {
      pending.push(log.append(auditEvent(i)));
      if (pending.length === 10_000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await log.close();
    return start;
  },
  'ours-hmac': () => variants.ours({ key: KEY }),
  // The same, keeping the Merkle tree (checkpoints with no schedule: only the tree's upkeep is timed).
  'ours-checkpoints': () => variants.ours({ checkpoints: { signer: generateCheckpointKey('bench').signer } }),
  // The common way to call it: one await after another.
  async 'ours-await'() {
    const log = await AppendOnlyLog.open(file, { durability: 'none' });
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) await log.append(auditEvent(i));
    await log.close();
    return start;
  },
  // A producer that never waits: memory must stay bounded.
  async 'ours-fire'() {
    const log = await AppendOnlyLog.open(file, { durability: 'none' });
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) log.append(auditEvent(i));
    await log.close();
    return start;
  },
  async 'pino-async'() {
    return pinoRun(false);
  },
  async 'pino-sync'() {
    return pinoRun(true);
  },
  async 'sonic-boom'() {
    const SonicBoom = require('sonic-boom');
    const sink = new SonicBoom({ dest: file, sync: false, minLength: 8 * 1024 });
    await new Promise((ready) => sink.once('ready', ready));
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) sink.write(`${JSON.stringify(auditEvent(i))}\n`);
    await new Promise((closed) => {
      sink.once('close', closed);
      sink.end();
    });
    return start;
  },
  // The limit: JSON.stringify each record and write 64 KiB batches, no chain.
  async unchained() {
    const fd = fs.openSync(file, 'a');
    const start = process.hrtime.bigint();
    let batch = '';
    for (let i = 0; i < N; i += 1) {
      batch += `${JSON.stringify(auditEvent(i))}\n`;
      if (batch.length >= 64 * 1024) {
        fs.writeSync(fd, batch);
        batch = '';
      }
    }
    fs.writeSync(fd, batch);
    fs.closeSync(fd);
    return start;
  },
};

async function pinoRun(sync) {
  const pino = require('pino');
  const destination = pino.destination({ dest: file, sync, minLength: sync ? 0 : 4096 });
  const logger = pino({ base: null }, destination);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) logger.info(auditEvent(i));
  await new Promise((closed) => {
    destination.once('close', closed);
    destination.end();
  });
  return start;
}

(async () => {
  fs.rmSync(file, { force: true });
  const start = await variants[variant]();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const bytes = fs.statSync(file).size;
  fs.rmSync(file, { force: true });
  process.stdout.write(JSON.stringify({ seconds, records: N, bytes, rssMB: peakRssMB() }));
})();
