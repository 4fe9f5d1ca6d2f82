// npm run bench [-- --quick]: every scenario against its peers in the same run, each measurement in a
// fresh process, variants alternated (A B A B ...), medians and ratios printed and written to
// bench/results/latest.json. Nothing here asserts speed: the targets are reported, met or not.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { encodeRecord, GENESIS } = require('../dist/log/format');
const { auditEvent } = require('./event');

const quick = process.argv.includes('--quick');
const SIZES = quick
  ? { rotation: 20_000, rotationSync: 2_000, append: 20_000, durable: 2_000, fsyncEach: 300, verifyRecords: 20_000, hugeLogBytes: 0, getCalls: 5_000, cycleCalls: 1_000, spawnCalls: 5, reps: 1 }
  : { rotation: 300_000, rotationSync: 20_000, append: 1_000_000, durable: 40_000, fsyncEach: 4_000, verifyRecords: 1_000_000, hugeLogBytes: 1024 ** 3, getCalls: 200_000, cycleCalls: 30_000, spawnCalls: 100, reps: 3 };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fsao-bench-'));
const results = { date: new Date().toISOString(), quick, machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, platform: `${process.platform}-${process.arch}` }, scenarios: {} };

function measure(script, args) {
  const result = spawnSync(process.execPath, [path.join(__dirname, 'scenarios', script), ...args.map(String)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${script} ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// Runs every variant `reps` times, alternating, and keeps the median of each metric.
function compare(script, variants, argsFor) {
  const runs = Object.fromEntries(variants.map((variant) => [variant, []]));
  for (let rep = 0; rep < SIZES.reps; rep += 1) for (const variant of variants) runs[variant].push(measure(script, argsFor(variant)));
  return Object.fromEntries(
    variants.map((variant) => {
      const keys = Object.keys(runs[variant][0]).filter((key) => typeof runs[variant][0][key] === 'number');
      return [variant, Object.fromEntries(keys.map((key) => [key, median(runs[variant].map((run) => run[key]))]))];
    }),
  );
}

const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const targets = [];
function target(scenario, description, ratio, goal, atLeast = true) {
  const met = atLeast ? ratio >= goal : ratio <= goal;
  targets.push({ scenario, description, ratio: Number(ratio.toFixed(3)), goal, met });
}
function table(title, rows) {
  console.log(`\n${title}`);
  for (const row of rows) console.log(`  ${row[0].padEnd(34)}${row.slice(1).map((cell) => String(cell).padStart(16)).join('')}`);
}

function appendScenario() {
  const variants = ['ours', 'ours-checkpoints', 'ours-await', 'ours-hmac', 'pino-async', 'pino-sync', 'sonic-boom', 'unchained'];
  const file = path.join(work, 'append.log');
  const medians = compare('append.js', variants, (variant) => [variant, SIZES.append, file]);
  const rate = (variant) => medians[variant].records / medians[variant].seconds;
  const limit = rate('unchained');
  const pino = rate('pino-async');
  table(`1. Append throughput, durability 'none', ${fmt(SIZES.append)} records of ~180 bytes`, [
    ['writer', 'records/s', 'x pino async', 'x unchained', 'peak RSS MB'],
    ...variants.map((variant) => [variant, fmt(rate(variant)), fmt(rate(variant) / pino, 2), fmt(rate(variant) / limit, 2), fmt(medians[variant].rssMB)]),
  ]);
  target('append', 'our log >= 4x pino (sync:false)', rate('ours') / pino, 4);
  target('append', 'our log >= 0.7x the unchained limit', rate('ours') / limit, 0.7);
  target('append', 'with HMAC >= 0.5x the unchained limit', rate('ours-hmac') / limit, 0.5);
  target('append', 'one await after another >= 1x pino (sync:false)', rate('ours-await') / pino, 1);
  target('append', 'keeping the Merkle tree costs <= 5% of append throughput', rate('ours-checkpoints') / rate('ours'), 0.95);
  results.scenarios.append = Object.fromEntries(variants.map((variant) => [variant, { recordsPerSecond: Math.round(rate(variant)), rssMB: Math.round(medians[variant].rssMB) }]));
  results.scenarios.append.treeCostNsPerRecord = Math.round(1e9 / rate('ours-checkpoints') - 1e9 / rate('ours'));
}

function durableScenario() {
  const file = path.join(work, 'durable.log');
  const group = compare('durable.js', ['group'], () => ['group', SIZES.durable, file]).group;
  const each = compare('durable.js', ['fsync-each'], () => ['fsync-each', SIZES.fsyncEach, file])['fsync-each'];
  const groupRate = group.records / group.seconds;
  const eachRate = each.records / each.seconds;
  table(`2. Durable appends, 200-byte records`, [
    ['writer', 'records/s', 'ratio', 'p50 us', 'p99 us'],
    ['64 appenders awaiting durability', fmt(groupRate), fmt(groupRate / eachRate, 1), fmt(group.p50us), fmt(group.p99us)],
    ['one fdatasync per record', fmt(eachRate), '1.0', '', ''],
  ]);
  target('durable', '64 durable appenders >= 15x one fdatasync per record', groupRate / eachRate, 15);
  results.scenarios.durable = { groupPerSecond: Math.round(groupRate), fsyncEachPerSecond: Math.round(eachRate), p50us: Math.round(group.p50us), p99us: Math.round(group.p99us) };
}

// Writes a valid log quickly, without the writer: records encoded directly, 64 KiB writes.
function makeLog(file, records, pad) {
  const fd = fs.openSync(file, 'w');
  let prev = GENESIS;
  let batch = '';
  let head = null;
  let bytes = 0;
  const ts = new Date().toISOString();
  for (let seq = 1; seq <= records; seq += 1) {
    const data = pad ? { ...auditEvent(seq), pad: 'x'.repeat(pad) } : auditEvent(seq);
    const { line, hash } = encodeRecord({ seq, ts, prev, type: 'data', keyId: null, dataJson: JSON.stringify(data) }, null);
    batch += line;
    bytes += Buffer.byteLength(line);
    prev = hash;
    if (batch.length >= 64 * 1024) {
      fs.writeSync(fd, batch);
      batch = '';
    }
    if (seq === Math.floor(records * 0.99)) head = { seq, hash, offset: bytes };
  }
  fs.writeSync(fd, batch);
  fs.closeSync(fd);
  return head;
}

function verifyScenario() {
  const file = path.join(work, 'verify.log');
  const since = makeLog(file, SIZES.verifyRecords, 0);
  const sinceText = JSON.stringify(since);
  const medians = compare('verify.js', ['verify', 'sha256', 'since'], (variant) => [variant, file, sinceText]);
  const mbps = (variant) => medians[variant].bytes / 1e6 / medians[variant].seconds;
  table(`3. Verify a ${fmt(SIZES.verifyRecords)}-record log (${fmt(medians.verify.bytes / 1e6)} MB)`, [
    ['reader', 'MB/s', 'x SHA-256 pass', 'seconds', 'peak RSS MB'],
    ['verifyLog', fmt(mbps('verify')), fmt(mbps('verify') / mbps('sha256'), 2), fmt(medians.verify.seconds, 2), fmt(medians.verify.rssMB)],
    ['one SHA-256 pass (read included)', fmt(mbps('sha256')), '1.00', fmt(medians.sha256.seconds, 2), fmt(medians.sha256.rssMB)],
    ['verifyLog since the last 1%', '', '', fmt(medians.since.seconds, 3), fmt(medians.since.rssMB)],
  ]);
  target('verify', 'verifyLog >= 0.7x one SHA-256 pass', mbps('verify') / mbps('sha256'), 0.7);
  target('verify', 'since on the last 1% <= 0.05x a full verify', medians.since.seconds / medians.verify.seconds, 0.05, false);
  fs.rmSync(file);
  results.scenarios.verify = { verifyMBps: Math.round(mbps('verify')), sha256MBps: Math.round(mbps('sha256')), sinceSeconds: medians.since.seconds, fullSeconds: medians.verify.seconds };

  if (SIZES.hugeLogBytes > 0) {
    const huge = path.join(work, 'huge.log');
    makeLog(huge, Math.ceil(SIZES.hugeLogBytes / 1200), 900);
    const run = measure('verify.js', ['verify', huge, '']);
    table(`   Peak memory verifying a ${fmt(run.bytes / 1e9, 2)} GB log`, [['verifyLog', `${fmt(run.rssMB)} MB`, run.status]]);
    target('verify', 'peak RSS verifying >= 1 GB <= 100 MB', run.rssMB, 100, false);
    results.scenarios.verify.hugeLogRssMB = Math.round(run.rssMB);
    fs.rmSync(huge);
  }
}

function attributeScenario() {
  const file = path.join(work, 'attributes.txt');
  fs.writeFileSync(file, 'x\n');
  let cBinary = null;
  try {
    cBinary = path.join(work, 'attr_bench');
    execFileSync('cc', ['-O2', '-o', cBinary, path.join(__dirname, 'attr_bench.c')], { stdio: 'pipe' });
  } catch {
    cBinary = null;
    console.log('\n(no C compiler: the C peer of the attribute calls is skipped)');
  }
  const variants = ['ours-get', 'ours-cycle', 'lsattr-get', 'chattr-cycle', ...(cBinary ? ['c-get', 'c-cycle'] : [])];
  const calls = { 'ours-get': SIZES.getCalls, 'ours-cycle': SIZES.cycleCalls, 'lsattr-get': SIZES.spawnCalls, 'chattr-cycle': SIZES.spawnCalls, 'c-get': SIZES.getCalls, 'c-cycle': SIZES.cycleCalls };
  const medians = compare('attributes.js', variants, (variant) => [variant, calls[variant], file, cBinary ?? '']);
  const us = (variant) => medians[variant].usPerCall;
  table('4. Attribute calls (us per call; a cycle is protect + unprotect)', [
    ['call', 'fs-append-only', 'spawning', 'x faster', 'C by path', 'x C'],
    ['isAppendOnlySync vs lsattr', fmt(us('ours-get'), 2), fmt(us('lsattr-get')), fmt(us('lsattr-get') / us('ours-get')), cBinary ? fmt(us('c-get'), 2) : '-', cBinary ? fmt(us('ours-get') / us('c-get'), 2) : '-'],
    ['protect+unprotect vs chattr +a/-a', fmt(us('ours-cycle'), 2), fmt(us('chattr-cycle')), fmt(us('chattr-cycle') / us('ours-cycle')), cBinary ? fmt(us('c-cycle'), 2) : '-', cBinary ? fmt(us('ours-cycle') / us('c-cycle'), 2) : '-'],
  ]);
  target('attributes', 'isAppendOnlySync >= 500x spawning lsattr', us('lsattr-get') / us('ours-get'), 500);
  target('attributes', 'protect+unprotect >= 500x spawning chattr', us('chattr-cycle') / us('ours-cycle'), 500);
  if (cBinary) {
    target('attributes', 'isAppendOnlySync within 1.5x of C', us('ours-get') / us('c-get'), 1.5, false);
    target('attributes', 'protect+unprotect within 1.5x of C', us('ours-cycle') / us('c-cycle'), 1.5, false);
  }
  results.scenarios.attributes = Object.fromEntries(variants.map((variant) => [variant, { usPerCall: Number(us(variant).toFixed(3)) }]));
}

function memoryScenario() {
  const file = path.join(work, 'memory.log');
  const medians = compare('append.js', ['ours-fire', 'pino-async'], (variant) => [variant, SIZES.append, file]);
  table(`5. Peak memory, ${fmt(SIZES.append)} appends issued without waiting`, [
    ['writer', 'peak RSS MB', 'records/s'],
    ...Object.entries(medians).map(([variant, run]) => [variant, fmt(run.rssMB), fmt(run.records / run.seconds)]),
  ]);
  if (!quick) target('memory', 'peak RSS of 1,000,000 unawaited appends <= 200 MB', medians['ours-fire'].rssMB, 200, false);
  results.scenarios.memory = Object.fromEntries(Object.entries(medians).map(([variant, run]) => [variant, { rssMB: Math.round(run.rssMB) }]));
}

function rotationScenario() {
  const logPath = path.join(work, 'rotation');
  const none = compare('rotation.js', ['rotating-none', 'single-none'], (variant) => [variant, SIZES.rotation, logPath]);
  const sync = compare('rotation.js', ['rotating-sync', 'single-sync'], (variant) => [variant, SIZES.rotationSync, logPath]);
  const runs = { ...none, ...sync };
  table(`7. Awaited appends across rotations (a segment sealed every 1 MiB) vs one file`, [
    ['writer', 'records/s', 'p50 us', 'p99 us', 'max us', 'segments'],
    ...Object.entries(runs).map(([variant, run]) => [variant, fmt(run.records / run.seconds), fmt(run.p50us, 1), fmt(run.p99us, 1), fmt(run.maxus), fmt(run.segments)]),
  ]);
  target('rotation', "p99 append latency rotating / not rotating ('none') <= 1.5", none['rotating-none'].p99us / none['single-none'].p99us, 1.5, false);
  target('rotation', "p99 append latency rotating / not rotating ('sync') <= 1.5", sync['rotating-sync'].p99us / sync['single-sync'].p99us, 1.5, false);
  results.scenarios.rotation = Object.fromEntries(Object.entries(runs).map(([variant, run]) => [variant, { p50us: Number(run.p50us.toFixed(1)), p99us: Number(run.p99us.toFixed(1)), maxus: Math.round(run.maxus), segments: run.segments }]));
}

function importScenario() {
  const file = path.join(work, 'import.txt');
  fs.writeFileSync(file, 'x');
  const runs = Array.from({ length: quick ? 3 : 9 }, () => measure('import.js', [file]));
  const requireMs = median(runs.map((run) => run.requireMs));
  const firstCallMs = median(runs.map((run) => run.firstCallMs));
  table('6. Import cost (ms)', [['require()', fmt(requireMs, 1)], ['first attribute call (loads the addon)', fmt(firstCallMs, 1)]]);
  results.scenarios.import = { requireMs: Number(requireMs.toFixed(2)), firstCallMs: Number(firstCallMs.toFixed(2)) };
}

try {
  console.log(`fs-append-only benchmarks${quick ? ' (--quick: small sizes, not for comparison)' : ''}: ${results.machine.cpus} cores, Node ${process.version}`);
  appendScenario();
  durableScenario();
  verifyScenario();
  attributeScenario();
  memoryScenario();
  importScenario();
  rotationScenario();
  console.log('\nTargets (ratios from this run)');
  for (const t of targets) console.log(`  ${t.met ? 'met   ' : 'missed'} ${t.description}: ${t.ratio}`);
  results.targets = targets;
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  spawnSync('chattr', ['-R', '-f', '-a', '-i', work]);
  fs.rmSync(work, { recursive: true, force: true });
}
