// When a directory log seals its active segment: by size, at a UTC boundary, or when asked.
import { checkInteger, checkOptions, invalidArgType, invalidArgValue } from '../validate';

export interface RotateOptions {
  /** Seal the active segment before a batch would take it past this many bytes (at a record boundary). */
  maxBytes?: number;
  /** Seal at the first append after each UTC hour or day boundary, or every so many milliseconds (from the epoch). */
  every?: 'hour' | 'day' | number;
}

export interface RotationPolicy {
  maxBytes: number | null;
  /** The period in milliseconds; boundaries are its multiples since the epoch (UTC). */
  periodMs: number | null;
}

const PERIODS = { hour: 3_600_000, day: 86_400_000 } as const;

export function parseRotate(value: unknown): RotationPolicy | null {
  if (value === undefined) return null;
  const given = checkOptions(value, ['maxBytes', 'every'], 'options.rotate');
  const maxBytes = checkInteger(given.maxBytes, 'options.rotate.maxBytes', 1) ?? null;
  let periodMs: number | null = null;
  const every = given.every;
  if (typeof every === 'string') {
    if (every !== 'hour' && every !== 'day') throw invalidArgValue('options.rotate.every', "must be 'hour', 'day' or a number of milliseconds", every);
    periodMs = PERIODS[every];
  } else if (typeof every === 'number') {
    periodMs = checkInteger(every, 'options.rotate.every', 1)!;
  } else if (every !== undefined) {
    throw invalidArgType('options.rotate.every', "'hour', 'day' or of type number", every);
  }
  return { maxBytes, periodMs };
}
