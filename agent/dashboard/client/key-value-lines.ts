/** Parses "key=value" lines (tags, metadata); returns the line that is wrong instead of guessing. */
export function parseKeyValueLines(text: string): { value: Record<string, string> } | { error: string } {
  const value: Record<string, string> = {};
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `line ${i + 1} ("${line}") is not key=value` };
    value[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { value };
}
