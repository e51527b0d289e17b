/** The file system as a parameter: the real one in `main`, a map in tests. */
export interface FileSystem {
  /** The path with every symbolic link resolved (fs.realpath). */
  realpath(file: string): Promise<string>;
  readFile(file: string): Promise<string>;
  writeFile(file: string, data: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
}
