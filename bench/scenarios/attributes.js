// Attribute calls in a fresh process: node attributes.js <variant> <calls> <file> [c-binary].
// Prints { usPerCall }: per isAppendOnly call, or per protect + unprotect cycle.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');

const { isAppendOnlySync, protectAppendOnlySync, unprotectAppendOnlySync } = require('../../dist');

const [variant, count, file, cBinary] = process.argv.slice(2);
const calls = Number(count);

function timed(run) {
  run(); // the first call loads the addon
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) run();
  return Number(process.hrtime.bigint() - start) / 1e3 / calls;
}

const spawned = (command, args) => () => {
  if (spawnSync(command, args).status !== 0) throw new Error(`${command} ${args.join(' ')} failed`);
};

const variants = {
  'ours-get': () => timed(() => isAppendOnlySync(file)),
  'ours-cycle': () =>
    timed(() => {
      protectAppendOnlySync(file);
      unprotectAppendOnlySync(file);
    }),
  'lsattr-get': () => timed(spawned('lsattr', ['-d', file])),
  'chattr-cycle': () =>
    timed(() => {
      spawned('chattr', ['+a', file])();
      spawned('chattr', ['-a', file])();
    }),
  'c-get': () => JSON.parse(execFileSync(cBinary, ['get', String(calls), file], { encoding: 'utf8' })).usPerCall,
  'c-cycle': () => JSON.parse(execFileSync(cBinary, ['cycle', String(calls), file], { encoding: 'utf8' })).usPerCall,
};

process.stdout.write(JSON.stringify({ usPerCall: variants[variant]() }));
