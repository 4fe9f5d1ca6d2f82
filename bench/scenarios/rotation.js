// Append latency across rotations, in a fresh process: node rotation.js <variant> <records> <path>.
// rotating-*: a directory log sealing a segment every 1 MiB; single-*: the same appends to one file.
// Each append is awaited on its own, so a rotation's cost lands on the append that triggers it.
'use strict';
const fs = require('node:fs');

const { AppendOnlyLog } = require('../../dist');
const { auditEvent, peakRssMB } = require('../event');

const [variant, count, target] = process.argv.slice(2);
const N = Number(count);
const [layout, durability] = variant.split('-');

(async () => {
  fs.rmSync(target, { recursive: true, force: true });
  const options = layout === 'rotating' ? { durability, rotate: { maxBytes: 1024 * 1024 } } : { durability };
  const log = await AppendOnlyLog.open(target, options);
  const latencies = new Float64Array(N);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) {
    const began = process.hrtime.bigint();
    await log.append(auditEvent(i));
    latencies[i] = Number(process.hrtime.bigint() - began) / 1e3;
  }
  await log.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  const at = (share) => latencies[Math.min(N - 1, Math.floor(share * N))];
  const segments = layout === 'rotating' ? fs.readdirSync(target).length : 1;
  fs.rmSync(target, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ seconds, records: N, p50us: at(0.5), p99us: at(0.99), maxus: latencies[N - 1], segments, rssMB: peakRssMB() }));
})();
