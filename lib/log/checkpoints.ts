// Signed checkpoints the writer makes: a C2SP tlog-checkpoint note over the tree of the records so far,
// appended to the log as a "checkpoint" record and handed to onCheckpoint for publishing elsewhere.
import { fdatasyncSync } from 'node:fs';

import { signCheckpoint } from '../checkpoint/checkpoint';
import { parseSignerKey } from '../checkpoint/note';
import { checkFunction, checkInteger, checkOptions, invalidArgType } from '../validate';
import type { LogCore } from './core';
import type { SigningKey } from './format';
import type { WriterTree } from './tree';

export interface CheckpointOptions {
  /** The signer key: `PRIVATE+KEY+<name>+<hash>+<base64>` (generateCheckpointKey). */
  signer: string;
  /** The checkpoint's origin line; the key's name by default. */
  origin?: string;
  /** Checkpoint on its own after this many records, or this many milliseconds, since the last one (at the next append). */
  every?: { records?: number; ms?: number };
  /** Called with each note the log makes, for publishing it elsewhere (a witness, an object store). */
  onCheckpoint?: (note: string) => void;
}

export interface Checkpoint {
  /** The signed note (c2sp.org/tlog-checkpoint, c2sp.org/signed-note). */
  note: string;
  /** How many records the tree holds: the records before the checkpoint record. */
  size: number;
  /** The tree's root, base64, as in the note. */
  root: string;
}

export interface CheckpointPolicy {
  signer: string;
  origin: string;
  everyRecords: number | null;
  everyMs: number | null;
  onCheckpoint: ((note: string) => void) | null;
}

export function parseCheckpoints(value: unknown): CheckpointPolicy | null {
  if (value === undefined) return null;
  const given = checkOptions(value, ['signer', 'origin', 'every', 'onCheckpoint'], 'options.checkpoints');
  if (typeof given.signer !== 'string') throw invalidArgType('options.checkpoints.signer', 'of type string', given.signer);
  const signer = parseSignerKey(given.signer, 'options.checkpoints.signer');
  if (given.origin !== undefined && typeof given.origin !== 'string') throw invalidArgType('options.checkpoints.origin', 'of type string', given.origin);
  const every = checkOptions(given.every, ['records', 'ms'], 'options.checkpoints.every');
  return {
    signer: given.signer,
    origin: (given.origin as string | undefined) ?? signer.name,
    everyRecords: checkInteger(every.records, 'options.checkpoints.every.records', 1) ?? null,
    everyMs: checkInteger(every.ms, 'options.checkpoints.every.ms', 1) ?? null,
    onCheckpoint: checkFunction<(note: string) => void>(given.onCheckpoint, 'options.checkpoints.onCheckpoint') ?? null,
  };
}

export class Checkpointer {
  /** The tree size and time of the last checkpoint this process made (0: a reopened log checkpoints at its first write when due). */
  #lastSize = 0;
  #lastTime = Date.now();

  constructor(
    readonly policy: CheckpointPolicy,
    readonly tree: WriterTree,
  ) {}

  /** Whether `every` asks for a checkpoint now. */
  due(now: number): boolean {
    const { everyRecords, everyMs } = this.policy;
    const size = this.tree.range.size;
    if (size === this.#lastSize) return false;
    return (everyRecords !== null && size - this.#lastSize >= everyRecords) || (everyMs !== null && now - this.#lastTime >= everyMs);
  }

  /**
   * Under the lock, with nothing pending: signs the tree of the records written so far and appends the
   * checkpoint record. The records it covers are synced first: a note published elsewhere must never
   * name records a power cut could still take away.
   */
  make(core: LogCore, key: SigningKey | null): Checkpoint {
    if (!this.tree.valid) core.rebuildTree();
    const range = this.tree.range;
    const size = range.size;
    const root = range.root();
    fdatasyncSync(core.file.fd);
    const note = signCheckpoint({ origin: this.policy.origin, size, root }, this.policy.signer);
    const record = core.chain.next(JSON.stringify({ note, range: range.toJSON() }), 'checkpoint', key);
    core.file.writeAll(Buffer.from(record.line));
    fdatasyncSync(core.file.fd);
    this.#lastSize = this.tree.range.size;
    this.#lastTime = Date.now();
    const publish = this.policy.onCheckpoint;
    // The callback is the user's code: never under the lock, and its failure is not the log's.
    if (publish !== null) {
      queueMicrotask(() => {
        try {
          publish(note);
        } catch (error) {
          process.emitWarning(`fs-append-only: onCheckpoint threw: ${(error as Error).message}`, { code: 'FS_APPEND_ONLY_CHECKPOINT_CALLBACK' });
        }
      });
    }
    return { note, size, root: root.toString('base64') };
  }
}
