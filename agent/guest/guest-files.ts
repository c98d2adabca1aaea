/** Read access to a guest filesystem's files by absolute path; undefined where the path is absent. */
export interface GuestFiles {
  /** At most `maxBytes` bytes of a regular file. */
  readFile(path: string, maxBytes: number): Promise<Buffer | undefined>;
  /** The names in a directory. */
  list(path: string): Promise<string[] | undefined>;
  isDirectory(path: string): Promise<boolean>;
}
