// Import cost in a fresh process: require() the package, then the first attribute call (which loads the addon).
'use strict';
const start = process.hrtime.bigint();
const api = require('../../dist');
const required = process.hrtime.bigint();
api.isAppendOnlySync(process.argv[2]);
const loaded = process.hrtime.bigint();
process.stdout.write(JSON.stringify({ requireMs: Number(required - start) / 1e6, firstCallMs: Number(loaded - required) / 1e6 }));
