/**
 * Uploads arrive as Buffers, but ffmpeg needs a seekable file (an mp4's index, the moov atom, is often at the end).
 * Each one gets a private directory that is removed when the work settles, whatever happened.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TEMP_PREFIX = 'memer-media-';

export async function withMediaFile<T>(
  input: Buffer | { path: string },
  fn: (path: string) => Promise<T>,
  /** Where private directories are made; default os.tmpdir(). */
  tmpDir: string = tmpdir(),
): Promise<T> {
  if (!Buffer.isBuffer(input)) return fn(resolve(input.path));
  const dir = await mkdtemp(join(tmpDir, TEMP_PREFIX));
  try {
    const path = join(dir, 'input');
    await writeFile(path, input, { mode: 0o600, flag: 'wx' });
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
