/**
 * The -v/--verbose trace: requests, retries and timings as lines on stderr. Off unless the CLI turns
 * it on; decorators ask `verboseEnabled()` once, when they are built.
 */
let writer: ((line: string) => void) | undefined;

export function setVerbose(w: ((line: string) => void) | undefined): void {
  writer = w;
}

export function verboseEnabled(): boolean {
  return writer !== undefined;
}

export function verbose(line: string): void {
  writer?.(line);
}
