// From what a logger writes to what a record holds: lines split across writes, each parsed as JSON.

/** A line's value: the JSON object a logger wrote, or the line itself as a string when it is not JSON. */
export function lineData(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    // Not JSON (a custom formatter): the text is kept rather than dropped from an audit trail.
    return line;
  }
}

/** Collects complete lines from chunks that may split or join them (LF or CRLF endings). */
export class LineSplitter {
  #partial = '';

  /** The complete lines in `chunk` and what came before it; empty lines are skipped. */
  push(chunk: string): string[] {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    return parts.map(stripCr).filter((line) => line !== '');
  }

  /** What is left after the last newline, when the stream ends. */
  end(): string[] {
    const rest = stripCr(this.#partial);
    this.#partial = '';
    return rest === '' ? [] : [rest];
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
