import { open, type FileHandle } from 'node:fs/promises';

/** MALFORMED: the input is there but wrong. NOT_FOUND: a file or folder the input needs does not exist. */
export type DatasetErrorCode = 'MALFORMED' | 'NOT_FOUND';

/**
 * The one error type of the dataset layer: every malformed input is reported with the file and the 1-based line where
 * the offending record starts (line 0 = the file as a whole, e.g. a missing file or a bad .npy header).
 */
export class DatasetError extends Error {
  constructor(
    /** Path of the offending file, as given to the reader. */
    readonly file: string,
    /** 1-based line number of the record (0 when the problem is not tied to one line). */
    readonly line: number,
    /** What is wrong, without the location. */
    readonly reason: string,
    readonly code: DatasetErrorCode = 'MALFORMED',
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'DatasetError';
  }
}

/** Opens a dataset file for reading; a missing or unreadable file is a DatasetError (line 0) with the system's code. */
export async function openDatasetFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw cannotOpen(path, err);
  }
}

/** The DatasetError for a file that could not be opened: NOT_FOUND when it does not exist. */
export function cannotOpen(path: string, err: unknown): DatasetError {
  const code = (err as NodeJS.ErrnoException).code;
  return new DatasetError(path, 0, `cannot open: ${code ?? (err as Error).message}`, code === 'ENOENT' ? 'NOT_FOUND' : 'MALFORMED');
}
