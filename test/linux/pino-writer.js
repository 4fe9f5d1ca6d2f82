// A child process logging with the real pino into an append-only log, then ending the way it is told to.
// Usage: node pino-writer.js <pino|pino10> <transport|destination> <how> <path> <count> <options JSON>
'use strict';

const [pinoName, mode, how, path, count, optionsJson] = process.argv.slice(2);
const pino = require(pinoName);
const options = { path, ...JSON.parse(optionsJson) };
// Buffers go through structured cloning into pino's worker, as a user's would.
if (options.key && options.key.secretHex) {
  options.key = { id: options.key.id, secret: Buffer.from(options.key.secretHex, 'hex') };
}

function logLines(logger) {
  for (let i = 0; i < Number(count); i++) logger.info({ i, user: 'alice', nested: { ok: true } }, `line ${i}`);
}

function end(logger, destination) {
  switch (how) {
    case 'return': // the event loop empties and the process exits by itself
      return;
    case 'exit':
      process.exit(0);
    case 'fatal':
      logger.fatal({ reason: 'test' }, 'going down');
      process.exit(1);
    case 'sigterm': // a handler that exits, as the README advises, then the signal
      process.once('SIGTERM', () => process.exit(143));
      process.kill(process.pid, 'SIGTERM');
      return;
    case 'uncaught': // the pino.final pattern of pino 6, by hand: fatal, flushSync, exit
      process.once('uncaughtException', (error) => {
        logger.fatal(error, 'uncaught');
        destination.flushSync();
        process.exit(1);
      });
      setImmediate(() => {
        throw new Error('boom');
      });
      return;
    case 'flush': // pino 10 takes logger.flush(cb) to the worker: print how many lines were in the file then
      logger.flush((error) => {
        if (error) throw error;
        process.stdout.write(`${require('node:fs').readFileSync(path, 'utf8').split('\n').length - 1}\n`);
        process.exit(0);
      });
      return;
    default:
      throw new Error(`unknown ending ${how}`);
  }
}

if (mode === 'transport') {
  // Resolved from this file, inside the package: the same self-reference a user's require makes to
  // node_modules/fs-append-only.
  const transport = pino.transport({ target: 'fs-append-only/pino', options });
  transport.on('error', (error) => {
    console.error('transport error:', error);
    process.exitCode = 3;
  });
  const logger = pino(transport);
  if (how === 'flush') {
    transport.once('ready', () => {
      logLines(logger);
      end(logger, transport);
    });
  } else {
    // No waiting for 'ready': pino buffers, and its exit hook waits for the worker.
    logLines(logger);
    end(logger, transport);
  }
} else {
  const { appendOnlyDestination } = require('fs-append-only/pino');
  const destination = appendOnlyDestination(options);
  destination.on('error', (error) => {
    console.error('destination error:', error);
    process.exitCode = 3;
  });
  const logger = pino(destination);
  destination.once('ready', () => {
    logLines(logger);
    end(logger, destination);
  });
}
