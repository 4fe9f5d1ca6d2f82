// Durable appends in a fresh process: node durable.js <variant> <records> <file>.
// group: 64 appenders, each awaiting durability. fsync-each: one write + fdatasync per record.
'use strict';
const fs = require('node:fs');

const { AppendOnlyLog } = require('../../dist');
const { peakRssMB } = require('../event');

const [variant, count, file] = process.argv.slice(2);
const N = Number(count);
const record = (i) => ({ actor: `user-${i % 100}`, action: 'payment.approve', id: i, amount: 120.5, currency: 'EUR', note: 'x'.repeat(60) });

async function group() {
  const log = await AppendOnlyLog.open(file, { durability: 'sync' });
  const latencies = [];
  let next = 0;
  const start = process.hrtime.bigint();
  async function appender() {
    while (next < N) {
      const i = next++;
      const began = process.hrtime.bigint();
      await log.append(record(i));
      latencies.push(Number(process.hrtime.bigint() - began) / 1e3);
    }
  }
  await Promise.all(Array.from({ length: 64 }, appender));
  await log.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (share) => latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))];
  return { seconds, p50us: at(0.5), p99us: at(0.99) };
}

function fsyncEach() {
  const fd = fs.openSync(file, 'a');
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) {
    fs.writeSync(fd, `${JSON.stringify(record(i))}\n`);
    fs.fdatasyncSync(fd);
  }
  fs.closeSync(fd);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

(async () => {
  fs.rmSync(file, { force: true });
  const result = variant === 'group' ? await group() : fsyncEach();
  fs.rmSync(file, { force: true });
  process.stdout.write(JSON.stringify({ ...result, records: N, rssMB: peakRssMB() }));
})();
