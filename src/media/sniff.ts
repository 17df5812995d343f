/**
 * The format of a file from its first bytes. A file name or a client's mime type says nothing we can trust, and the
 * decoders are told the format found here (ffmpeg's demuxer is forced), so a playlist named .mp4 never reaches
 * ffmpeg's HLS or concat demuxers.
 */
import { MediaError } from './errors.js';

export type MediaKind = 'image' | 'video' | 'audio';

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'heif'] as const;
/** Audio/video containers; `kind` says what they usually hold, the streams found by ffprobe decide. */
export const AV_FORMATS = ['mp4', 'mov', 'webm', 'matroska', 'avi', 'wav', 'mp3', 'ogg', 'flac', 'm4a'] as const;

export type ImageFormat = (typeof IMAGE_FORMATS)[number];
export type AvFormat = (typeof AV_FORMATS)[number];

export type Sniffed =
  | { kind: 'image'; format: ImageFormat; mime: string }
  | { kind: 'video' | 'audio'; format: AvFormat; mime: string };

/** How many leading bytes sniff() looks at. */
export const SNIFF_BYTES = 64;

const ascii = (b: Uint8Array, at: number, length: number) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1', at, at + length);
const startsWith = (b: Uint8Array, bytes: readonly number[], at = 0) => bytes.every((x, i) => b[at + i] === x);

/** ISO BMFF major brands of still images (HEIF / AVIF); anything else after `ftyp` is a movie. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'F4A ']);
/** Top-level atoms an old QuickTime file (without `ftyp`) may start with. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

function sniffIsoBmff(b: Uint8Array): Sniffed | null {
  if (b.length < 12) return null;
  const box = ascii(b, 4, 4);
  const size = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  if (box === 'ftyp') {
    if (size < 16 && size !== 0) return null;
    const brand = ascii(b, 8, 4);
    // A HEIF file lists its image brand in major or compatible brands; check the ones in view.
    const brands = [brand];
    for (let at = 16; at + 4 <= Math.min(size || b.length, b.length); at += 4) brands.push(ascii(b, at, 4));
    if (brands.some((x) => AVIF_BRANDS.has(x))) return { kind: 'image', format: 'avif', mime: 'image/avif' };
    if (brands.some((x) => HEIF_BRANDS.has(x)) && !brands.some((x) => /^(iso|mp4|avc|qt  )/.test(x))) return { kind: 'image', format: 'heif', mime: 'image/heif' };
    if (AUDIO_BRANDS.has(brand)) return { kind: 'audio', format: 'm4a', mime: 'audio/mp4' };
    if (brand === 'qt  ') return { kind: 'video', format: 'mov', mime: 'video/quicktime' };
    if (!/^[\x20-\x7e]{4}$/.test(brand)) return null;
    return { kind: 'video', format: 'mp4', mime: 'video/mp4' };
  }
  if (QUICKTIME_ATOMS.has(box) && (size >= 8 || size === 1)) return { kind: 'video', format: 'mov', mime: 'video/quicktime' };
  return null;
}

/** An MPEG audio frame header (layer I-III): sync, a layer, a valid bitrate and sample rate. ADTS AAC (layer 0) is not one. */
function isMpegAudioFrame(b: Uint8Array, at: number): boolean {
  if (b.length < at + 4 || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return false;
  const version = (b[at + 1] >> 3) & 3;
  const layer = (b[at + 1] >> 1) & 3;
  const bitrate = b[at + 2] >> 4;
  const rate = (b[at + 2] >> 2) & 3;
  return version !== 1 && layer !== 0 && bitrate !== 0 && bitrate !== 15 && rate !== 3;
}

/** The format of `bytes` (at least the first SNIFF_BYTES of a file), or null when it is none we decode. */
export function sniffFormat(bytes: Uint8Array): Sniffed | null {
  const b = bytes;
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg', mime: 'image/jpeg' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png', mime: 'image/png' };
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return { kind: 'image', format: 'gif', mime: 'image/gif' };
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF') {
    const form = ascii(b, 8, 4);
    if (form === 'WEBP') return { kind: 'image', format: 'webp', mime: 'image/webp' };
    if (form === 'AVI ') return { kind: 'video', format: 'avi', mime: 'video/x-msvideo' };
    if (form === 'WAVE') return { kind: 'audio', format: 'wav', mime: 'audio/wav' };
    return null;
  }
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) {
    // The EBML header's DocType comes within the first few dozen bytes.
    const head = ascii(b, 0, Math.min(b.length, SNIFF_BYTES));
    if (head.includes('webm')) return { kind: 'video', format: 'webm', mime: 'video/webm' };
    if (head.includes('matroska')) return { kind: 'video', format: 'matroska', mime: 'video/x-matroska' };
    return null;
  }
  if (b.length >= 4 && ascii(b, 0, 4) === 'OggS') return { kind: 'audio', format: 'ogg', mime: 'audio/ogg' };
  if (b.length >= 4 && ascii(b, 0, 4) === 'fLaC') return { kind: 'audio', format: 'flac', mime: 'audio/flac' };
  if (b.length >= 10 && ascii(b, 0, 3) === 'ID3' && b[3] < 0xff && b[4] < 0xff) return { kind: 'audio', format: 'mp3', mime: 'audio/mpeg' };
  if (isMpegAudioFrame(b, 0)) return { kind: 'audio', format: 'mp3', mime: 'audio/mpeg' };
  return sniffIsoBmff(b);
}

/** sniffFormat, refusing an empty or unrecognised file with a MediaError. */
export function sniff(bytes: Uint8Array): Sniffed {
  if (bytes.length === 0) throw new MediaError('EMPTY', 'the file is empty (0 bytes)');
  const found = sniffFormat(bytes);
  if (!found) {
    throw new MediaError(
      'UNSUPPORTED',
      `the file is not a supported image, video or audio format (by its content; supported: ${[...IMAGE_FORMATS, ...AV_FORMATS].join(', ')})`,
      { head: Buffer.from(bytes.subarray(0, 8)).toString('hex') },
    );
  }
  return found;
}

/** The ffmpeg demuxer for a container, always given with -f so that ffmpeg never picks one from the content. */
export const DEMUXERS: Readonly<Record<AvFormat, string>> = {
  mp4: 'mov',
  mov: 'mov',
  m4a: 'mov',
  webm: 'matroska',
  matroska: 'matroska',
  avi: 'avi',
  wav: 'wav',
  mp3: 'mp3',
  ogg: 'ogg',
  flac: 'flac',
};
