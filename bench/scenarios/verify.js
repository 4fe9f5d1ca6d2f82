// Verification in a fresh process: node verify.js <variant> <log> [since-json].
// verify: verifyLog over the whole file. verify-keys: the same with the signing key, every signature checked.
// since: verifyLog from a trusted head. sha256: one SHA-256 pass over the same bytes, read included (the
// limit): 1 MiB readSync chunks into one reused Buffer, one Hash updated per chunk.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');

const { verifyLog } = require('../../dist');
const { BENCH_KEYS, peakRssMB } = require('../event');

const [variant, file, since] = process.argv.slice(2);

function sha256Pass() {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let read; (read = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

const options = { verify: {}, 'verify-keys': { keys: BENCH_KEYS }, since: since ? { since: JSON.parse(since) } : {} };

(async () => {
  const start = process.hrtime.bigint();
  let status = 'n/a';
  if (variant === 'sha256') sha256Pass();
  else status = (await verifyLog(file, options[variant])).status;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, bytes: fs.statSync(file).size, status, rssMB: peakRssMB() }));
})();
