// What the parts of a writer share: the open file, the chain, and how failures are explained.
import type { Chain } from './chain';
import { explainLogFailure } from './errors';
import type { SigningKey } from './format';
import type { LogFile } from './log-file';
import { catchUp } from './recovery';

export class LogCore {
  constructor(
    readonly file: LogFile,
    readonly chain: Chain,
    /** The path named in errors: the one the file was first opened by. */
    readonly path: string,
  ) {}

  explain = (error: unknown): unknown => explainLogFailure(error instanceof Error && error.name === 'WriteFailure' ? error.cause : error, this.path);

  /** Under the lock: continue from what the file holds, closing any bytes after its last record. */
  catchUp(key: SigningKey | null): void {
    catchUp(this.file, this.chain, key, this.path);
  }
}
