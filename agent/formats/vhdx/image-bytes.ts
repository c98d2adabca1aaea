/**
 * The bytes of a VHDX file as its readers see them: the file itself, or the file with its log replayed
 * in memory (log-overlay.ts). Nothing here writes to the source.
 */
export interface ImageBytes {
  readonly path: string;
  /** Size of the file, extended to the log's LastFileOffset when a replayed log says so. */
  readonly size: number;
  read(position: number, length: number, what: string): Promise<Buffer>;
  readInto(buf: Buffer, position: number, what: string): Promise<void>;
}
