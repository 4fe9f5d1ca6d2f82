// fs-append-only/pino: the pino transport (the default export, loaded by pino's worker thread) and an
// in-process destination.
import { appendOnlyTransport } from './pino-transport';

export { appendOnlyTransport, type AppendOnlyTransportOptions } from './pino-transport';
export { AppendOnlyDestination, appendOnlyDestination, type AppendOnlyDestinationOptions } from './pino-destination';
export type { CheckpointOptions, IntegrationKey } from './options';

// pino's worker imports the target and calls its default export (thread-stream unwraps a CommonJS
// module's `default` twice for compiled TypeScript).
export default appendOnlyTransport;
