// Helpers of the checkpoint tests.

/** The `code` of what `run` throws, or undefined when it returns. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}
