// Argument checks for every public entry point, with Node's error codes and message shapes.
import { inspect } from 'node:util';

/** How Node names what it received in an argument error: `Received type number (1)`. */
function received(value: unknown): string {
  if (value === null) return 'Received null';
  if (value === undefined) return 'Received undefined';
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    if (Array.isArray(value)) return 'Received an instance of Array';
    const name = (value as object).constructor?.name;
    return name ? `Received an instance of ${name}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/** `name` is an argument ("path") or a property path ("options.durability"). */
function subject(name: string): string {
  return name.includes('.') ? `The "${name}" property` : `The "${name}" argument`;
}

/** ERR_INVALID_ARG_TYPE: `The "options.key" property must be of type object. Received type string ('k1')`. */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  const error = new TypeError(`${subject(name)} must be ${expected}. ${received(value)}`);
  return Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
}

/** ERR_INVALID_ARG_VALUE: the type is right, the value is not (`must be 'sync' or 'none'. Received 'fast'`). */
export function invalidArgValue(name: string, requirement: string, value?: unknown): TypeError {
  const tail = arguments.length > 2 ? ` ${received(value)}` : '';
  const error = new TypeError(`${subject(name)} ${requirement}.${tail}`);
  return Object.assign(error, { code: 'ERR_INVALID_ARG_VALUE' });
}

/** ERR_OUT_OF_RANGE, for numbers and sizes outside what is allowed. */
export function outOfRange(name: string, requirement: string, value: unknown): RangeError {
  const error = new RangeError(`${subject(name)} is out of range. It must be ${requirement}. ${received(value)}`);
  return Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
}

/**
 * An options argument: undefined is {}, anything but a plain object is ERR_INVALID_ARG_TYPE, and a
 * name not in `known` is ERR_INVALID_ARG_VALUE (a misspelt option must never silently fall back to
 * its default: `{ durabilty: 'none' }` would otherwise run as 'sync').
 */
export function checkOptions(options: unknown, known: readonly string[], name = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType(name, 'of type object', options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const list = known.length > 0 ? `known options are ${known.join(', ')}` : 'it takes no options';
      throw invalidArgValue(`${name}.${key}`, `is not an option (${list})`);
    }
  }
  return options as Record<string, unknown>;
}

export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

export function checkFunction<T extends (...args: never[]) => unknown>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as T;
}

/** An integer >= minimum (Number.isSafeInteger), or undefined when absent. */
export function checkInteger(value: unknown, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < minimum) throw outOfRange(name, `an integer >= ${minimum}`, value);
  return value;
}

export function checkOneOf<T extends string | boolean>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => (typeof item === 'string' ? `'${item}'` : String(item))).join(', ');
    throw invalidArgValue(name, `must be one of: ${list}`, value);
  }
  return value as T;
}
