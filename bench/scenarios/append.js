// One append-throughput measurement in a fresh process: node append.js <variant> <records> <file>.
// Prints { seconds, records, lines, bytes, rssMB[, p50us, p99us] }. Timed until the file is closed; the lines
// are counted afterwards, so a writer that dropped records shows it.
'use strict';
const fs = require('node:fs');

const { AppendOnlyLog, generateCheckpointKey } = require('../../dist');
const { auditEvent, BENCH_KEY, peakRssMB, countLines, percentile } = require('../event');

const [variant, count, file] = process.argv.slice(2);
const N = Number(count);

// Latency is taken on every 7th call only: two hrtime.bigint() calls cost ~0.1 us, several percent of an
// awaited append, and would tilt the throughput ratios against whoever is timed. A prime stride samples
// every position in a writer's batch alike.
const STRIDE = 7;
const latencies = new Float64Array(Math.ceil(N / STRIDE));

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
  'ours-hmac': () => variants.ours({ key: BENCH_KEY }),
  // The same, keeping the Merkle tree (checkpoints with no schedule: only the tree's upkeep is timed).
  'ours-checkpoints': () => variants.ours({ checkpoints: { signer: generateCheckpointKey('bench').signer } }),
  // The common way to call it: one await after another. Latency: from the call to the promise's settling.
  async 'ours-await'() {
    const log = await AppendOnlyLog.open(file, { durability: 'none' });
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) {
      const event = auditEvent(i);
      if (i % STRIDE !== 0) {
        await log.append(event);
        continue;
      }
      const began = process.hrtime.bigint();
      await log.append(event);
      latencies[i / STRIDE] = Number(process.hrtime.bigint() - began) / 1e3;
    }
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
  'pino-async': () => pinoDestination(false),
  'pino-sync': () => pinoDestination(true),
  // pino's way off the main thread: a worker thread writing the file (pino/file, sonic-boom sync:false).
  // Timed from a ready worker until it has flushed, closed the file and exited. The producer gives the event
  // loop a turn every 1,000 records, as a server does: a thread-stream hands records to its worker only
  // in those turns, and a loop that never yields queues them all in one string (1M records: ~1.4 GB and
  // a third of this speed).
  async 'pino-transport'() {
    const pino = require('pino');
    const transport = pino.transport({ target: 'pino/file', options: { destination: file } });
    await new Promise((ready) => transport.once('ready', ready));
    transport.ref(); // pino unrefs the worker once it is ready: Node would exit before 'close'
    const logger = pino({ base: null }, transport);
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) {
      logger.info(auditEvent(i));
      if (i % 1000 === 999) await new Promise(setImmediate);
    }
    await new Promise((closed) => {
      transport.once('close', closed);
      transport.end();
    });
    return start;
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

// pino.destination is sonic-boom on the main thread. A logger.info call's latency is the peer of an awaited
// append's: with sync:false the record is buffered when it returns, as with 'none'; with sync:true, written.
async function pinoDestination(sync) {
  const pino = require('pino');
  const destination = pino.destination({ dest: file, sync, minLength: sync ? 0 : 4096 });
  await new Promise((ready) => destination.once('ready', ready));
  const logger = pino({ base: null }, destination);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) {
    const event = auditEvent(i);
    if (i % STRIDE !== 0) {
      logger.info(event);
      continue;
    }
    const began = process.hrtime.bigint();
    logger.info(event);
    latencies[i / STRIDE] = Number(process.hrtime.bigint() - began) / 1e3;
  }
  await new Promise((closed) => {
    destination.once('close', closed);
    destination.end();
  });
  return start;
}

const timesLatency = new Set(['ours-await', 'pino-async', 'pino-sync']);

(async () => {
  fs.rmSync(file, { force: true });
  const start = await variants[variant]();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const bytes = fs.statSync(file).size;
  const lines = countLines(file);
  fs.rmSync(file, { force: true });
  const result = { seconds, records: N, lines, bytes, rssMB: peakRssMB() };
  if (timesLatency.has(variant)) {
    latencies.sort();
    Object.assign(result, { p50us: percentile(latencies, 0.5), p99us: percentile(latencies, 0.99) });
  }
  process.stdout.write(JSON.stringify(result));
})();
