/**
 * Images through sharp (libvips): the header is read and checked against the limits first, then the pixels are
 * decoded once for the model (size x size sRGB, cover then centre crop) and, when asked, once more as a grey PNG at a
 * size OCR reads well.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import type { RgbImage } from './image-types.js';
import { MediaError, trimDiagnostic } from './errors.js';
import type { MediaLimits } from './limits.js';
import { sniff, type ImageFormat } from './sniff.js';

export interface OcrImageOptions {
  /** The long side is enlarged to at least this (small text is read far better when enlarged). Default 1000. */
  minSide?: number;
  /** ...and reduced to at most this. Default 2000. */
  maxSide?: number;
}

export interface ImageDecodeOptions {
  /** The model's input side: the image is resized to cover size x size, then centre-cropped. */
  size: number;
  /** Also make the grey PNG for OCR (`ocrPng`). */
  ocr?: boolean | OcrImageOptions;
}

export interface DecodedImage {
  image: RgbImage;
  /** The original's dimensions as displayed (after EXIF orientation). */
  width: number;
  height: number;
  format: ImageFormat;
  ocrPng?: Buffer;
}

export interface ImageHeader {
  format: ImageFormat;
  /** As displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** Frames of an animated GIF / WebP; only the first is decoded. */
  pages: number;
}

const WHITE = { r: 255, g: 255, b: 255 };

/**
 * 'error' rather than sharp's default 'warning': truncated or undecodable data fails, while the benign warnings
 * some cameras' JPEGs raise ("extraneous bytes before marker") do not refuse a photo that decodes fine.
 */
function input(bytes: Buffer, limits: MediaLimits, headerOnly = false): Sharp {
  const options: SharpOptions = {
    failOn: 'error',
    // Reading the header decodes no pixel; leaving libvips' check to ours gives the uploader the dimensions.
    limitInputPixels: headerOnly ? false : limits.maxPixels,
    autoOrient: true,
    sequentialRead: true,
    animated: false,
  };
  return sharp(bytes, options).timeout({ seconds: Math.max(1, Math.ceil(limits.timeoutMs / 1000)) });
}

/** libvips' message as the uploader's problem. */
function imageError(err: unknown, format: string): MediaError {
  if (err instanceof MediaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const detail = trimDiagnostic(message);
  const details = { format, decoder: detail };
  if (/timeout/i.test(message)) return new MediaError('TIMEOUT', `decoding the ${format} image took too long`, details);
  if (/pixel limit/i.test(message)) return new MediaError('TOO_MANY_PIXELS', `the ${format} image has more pixels than allowed`, details);
  if (/unsupported|no decoding plugin|not in a known format/i.test(message) && !/corrupt|invalid/i.test(message)) {
    return new MediaError('UNSUPPORTED', `the ${format} image uses a variant that cannot be decoded (${detail})`, details);
  }
  if (/premature end|truncat|end of (input|file|data)|unexpected end|EOF|not enough data/i.test(message)) {
    return new MediaError('TRUNCATED', `the ${format} image is truncated (${detail})`, details);
  }
  return new MediaError('CORRUPT', `the ${format} image is corrupt (${detail})`, details);
}

function checkBytes(bytes: Buffer, limits: MediaLimits): ImageFormat {
  if (bytes.length > limits.maxBytes) {
    throw new MediaError('TOO_LARGE', `the file is ${bytes.length} bytes, over the limit of ${limits.maxBytes}`, { bytes: bytes.length, maxBytes: limits.maxBytes });
  }
  const found = sniff(bytes);
  if (found.kind !== 'image') throw new MediaError('UNSUPPORTED', `the file is ${found.kind === 'audio' ? 'an audio file' : 'a video'} (${found.format}), not an image`, { format: found.format });
  return found.format;
}

/** The header alone (no pixels decoded), refused when its dimensions are over the limit. */
export async function readImageHeader(bytes: Buffer, limits: MediaLimits): Promise<ImageHeader> {
  const format = checkBytes(bytes, limits);
  let meta: Metadata;
  try {
    meta = await input(bytes, limits, true).metadata();
  } catch (err) {
    throw imageError(err, format);
  }
  const { width, height } = meta.autoOrient ?? meta;
  if (!(width > 0 && height > 0)) throw new MediaError('CORRUPT', `the ${format} image declares no dimensions`, { format });
  if (width * height > limits.maxPixels) {
    throw new MediaError('TOO_MANY_PIXELS', `the image is ${width}x${height} pixels, over the limit of ${limits.maxPixels} pixels`, {
      width,
      height,
      maxPixels: limits.maxPixels,
    });
  }
  return { format, width, height, pages: meta.pages ?? 1 };
}

/** The model's input: covers size x size then centre-cropped, alpha flattened on white, any colour space to sRGB. */
async function modelImage(bytes: Buffer, limits: MediaLimits, size: number, format: ImageFormat): Promise<RgbImage> {
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await input(bytes, limits)
      .resize(size, size, { fit: 'cover', position: 'centre' })
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw imageError(err, format);
  }
  const { width, height, channels } = raw.info;
  if (width !== size || height !== size || channels !== 3) throw new Error(`sharp produced ${width}x${height}x${channels}, not ${size}x${size}x3`);
  const data = new Float32Array(raw.data.length);
  for (let i = 0; i < data.length; i++) data[i] = raw.data[i] / 255;
  return { width, height, data };
}

/** A grey PNG of the whole image (orientation applied, alpha on white), long side in [minSide, maxSide]. */
async function ocrImage(bytes: Buffer, limits: MediaLimits, header: ImageHeader, opts: OcrImageOptions): Promise<Buffer> {
  const { minSide = 1000, maxSide = 2000 } = opts;
  const long = Math.max(header.width, header.height);
  const scale = long < minSide ? minSide / long : long > maxSide ? maxSide / long : 1;
  const width = Math.max(1, Math.round(header.width * scale));
  const height = Math.max(1, Math.round(header.height * scale));
  try {
    return await input(bytes, limits).flatten({ background: WHITE }).resize(width, height, { fit: 'fill' }).toColourspace('b-w').png({ compressionLevel: 1 }).toBuffer();
  } catch (err) {
    throw imageError(err, header.format);
  }
}

/** Decodes an image for the visual model (and, with `ocr`, for OCR); every refusal is a MediaError. */
export async function decodeImage(bytes: Buffer, limits: MediaLimits, opts: ImageDecodeOptions): Promise<DecodedImage> {
  if (!Number.isSafeInteger(opts.size) || opts.size <= 0) throw new RangeError(`image size must be a positive integer, got ${opts.size}`);
  const header = await readImageHeader(bytes, limits);
  const image = await modelImage(bytes, limits, opts.size, header.format);
  const decoded: DecodedImage = { image, width: header.width, height: header.height, format: header.format };
  if (opts.ocr) decoded.ocrPng = await ocrImage(bytes, limits, header, opts.ocr === true ? {} : opts.ocr);
  return decoded;
}

/** The grey PNG for OCR alone. */
export async function imageToOcrPng(bytes: Buffer, limits: MediaLimits, opts: OcrImageOptions = {}): Promise<Buffer> {
  const header = await readImageHeader(bytes, limits);
  return ocrImage(bytes, limits, header, opts);
}
