/** DSP0243 §7.1: chunk N of a file is named href + "." + N as a zero-padded nine-digit number. */
export function chunkName(href: string, index: number): string {
  return `${href}.${String(index).padStart(9, '0')}`;
}
