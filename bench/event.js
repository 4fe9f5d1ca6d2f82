// The audit event every writer benchmark appends (about 180 bytes as JSON), and what the scenarios share.
'use strict';
const fs = require('node:fs');

function auditEvent(i) {
  return {
    actor: `user-${i % 1000}`,
    action: 'document.read',
    target: { type: 'document', id: `doc-${i}` },
    requestId: 'req-0123456789abcdef',
    ip: `192.0.2.${i % 255}`,
    meta: { tenant: 't-42', ok: true },
  };
}

/** The key of every signed benchmark log: the writer's form ({ id, secret }) and the verifier's ({ id: secret }). */
const BENCH_KEY = { id: 'bench', secret: Buffer.from('a benchmark secret, 32 bytes....') };
const BENCH_KEYS = { [BENCH_KEY.id]: BENCH_KEY.secret };

/** Process facts a measurement reports besides its time. */
function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024;
}

/** Newlines in a file, counted after the timing stops: proof that a writer wrote every record. */
function countLines(file) {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  let lines = 0;
  try {
    for (let read; (read = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      const filled = chunk.subarray(0, read);
      for (let at = filled.indexOf(10); at !== -1; at = filled.indexOf(10, at + 1)) lines += 1;
    }
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}

/** The value below which `share` of the sorted samples lie. */
function percentile(sorted, share) {
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

module.exports = { auditEvent, BENCH_KEY, BENCH_KEYS, peakRssMB, countLines, percentile };
