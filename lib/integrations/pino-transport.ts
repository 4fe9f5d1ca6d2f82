// The pino transport: runs in pino's worker thread, one record per line pino writes.
import type { Transform } from 'node:stream';

import build = require('pino-abstract-transport');

import { AppendOnlyLog } from '../log/index';
import { type IntegrationLogOptions, toLogOptions } from './options';
import { lineData } from './lines';

export type AppendOnlyTransportOptions = IntegrationLogOptions;

/** What pino and thread-stream add to a transport's options ($context, pinoWillSendConfig), not the user. */
function withoutPinoFields(options: unknown): unknown {
  if (options === null || typeof options !== 'object') return options;
  const { $context, pinoWillSendConfig, ...rest } = options as Record<string, unknown>;
  return rest;
}

/**
 * pino.transport({ target: 'fs-append-only/pino', options }) loads this in its worker thread. The log is
 * open before the stream is returned, so pino's 'ready' means the log is open and every line pino hands
 * the worker is appended in the same turn (chained and buffered, written when the turn ends).
 */
export async function appendOnlyTransport(options: AppendOnlyTransportOptions): Promise<Transform> {
  const { path, open } = toLogOptions(withoutPinoFields(options));
  const log = await AppendOnlyLog.open(path, open);
  let failed = false;
  const stream: Transform = await build(
    (source: Transform) => {
      source.on('data', (line: string) => {
        if (line === '' || failed) return;
        log.append(lineData(line)).catch((error: unknown) => {
          // A record that did not reach the file ends the transport: pino reports the error on its stream.
          if (failed) return;
          failed = true;
          source.destroy(error as Error);
        });
      });
    },
    {
      // Lines as pino wrote them: parsed here, so a line that is not JSON is kept (as a string) in order.
      parse: 'lines',
      parseLine: (line: string) => line,
      // pino ends the stream on exit (thread-stream waits for it to close): everything is written then.
      close: async () => {
        await log.close();
      },
    },
  );
  // pino 10's logger.flush(cb) reaches the worker's stream: write what is buffered and wait for the disk.
  Object.assign(stream, {
    flush(callback: (error?: Error | null) => void): void {
      log.flush().then(() => callback(null), callback);
    },
  });
  return stream;
}
