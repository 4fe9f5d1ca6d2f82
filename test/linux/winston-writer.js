// A child process logging with the real winston into an append-only log, then ending the way it is told to.
// Usage: node winston-writer.js <how> <path> <count> <options JSON>
'use strict';

const winston = require('winston');
const { AppendOnlyTransport } = require('fs-append-only/winston');

const [how, path, count, optionsJson] = process.argv.slice(2);
const transport = new AppendOnlyTransport({ path, ...JSON.parse(optionsJson) });
const logger = winston.createLogger({ level: 'info', transports: [transport] });
logger.on('error', (error) => {
  console.error('logger error:', error);
  process.exitCode = 3;
});

function logLines() {
  for (let i = 0; i < Number(count); i++) logger.info(`line ${i}`, { i, user: 'alice' });
  logger.debug('below the level: not written');
}

switch (how) {
  case 'early': // logged before the log is open, then the event loop empties
    logLines();
    break;
  case 'end': // winston's way to flush: logger.end() and wait for 'finish'
    transport.once('ready', () => {
      logLines();
      logger.on('finish', () => process.exit(0));
      logger.end();
    });
    break;
  case 'exit':
    transport.once('ready', () => {
      logLines();
      process.exit(0);
    });
    break;
  default:
    throw new Error(`unknown ending ${how}`);
}
