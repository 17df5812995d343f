/**
 * The length a WAV header declares. ffprobe estimates a WAV's duration from the file's size, which hides both a cut
 * file and a header claiming hours; the data chunk's size over the byte rate is what the writer meant.
 */

/** Seconds the data chunk declares, or null when the header does not say (a streamed WAV writes 0 or 0xFFFFFFFF). */
export function wavDeclaredSeconds(head: Buffer): number | null {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return null;
  let byteRate = 0;
  for (let at = 12; at + 8 <= head.length; ) {
    const id = head.toString('latin1', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 16 <= head.length) byteRate = head.readUInt32LE(at + 16);
    if (id === 'data') return byteRate > 0 && size > 0 && size !== 0xffffffff ? size / byteRate : null;
    // Chunks are padded to an even size.
    at += 8 + size + (size & 1);
  }
  return null;
}
