// Verification in a fresh process: node verify.js <variant> <log> [since-json].
// verify: verifyLog over the whole file. since: verifyLog from a trusted head. sha256: one SHA-256 pass
// over the same bytes, read included (the limit).
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');

const { verifyLog } = require('../../dist');
const { peakRssMB } = require('../event');

const [variant, file, since] = process.argv.slice(2);

async function sha256Pass() {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

(async () => {
  const start = process.hrtime.bigint();
  let status = 'n/a';
  if (variant === 'sha256') await sha256Pass();
  else status = (await verifyLog(file, variant === 'since' ? { since: JSON.parse(since) } : {})).status;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, bytes: fs.statSync(file).size, status, rssMB: peakRssMB() }));
})();
