/**
 * Images for the visual extractor and converter tests, made with sharp (no files in the repository): a colour
 * gradient with SVG text over it, flat-colour shapes, smooth noise (a photo-like texture), and a real-world graphic
 * shipped in node_modules (tesseract.js's logo) when it is installed. Each is 224x224 RGB; `u8` is what a decoder
 * gives, `image` the extractor's RgbImage (u8 / 255).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../../../src/media/image-types.js';
import { Rng } from '../../../src/ml/graph/rng.js';

export interface Fixture {
  name: string;
  u8: Uint8Array;
  image: RgbImage;
}

const SIZE = 224;

async function rgb(input: Sharp): Promise<Uint8Array> {
  const { data, info } = await input.resize(SIZE, SIZE, { fit: 'fill' }).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== SIZE || info.height !== SIZE) throw new Error(`fixture decoded to ${info.width}x${info.height}x${info.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function toImage(u8: Uint8Array, size = SIZE): RgbImage {
  const data = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) data[i] = u8[i] / 255;
  return { width: size, height: size, data };
}

const svg = (body: string) => sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}">${body}</svg>`));

const MAKERS: Record<string, () => Promise<Uint8Array>> = {
  'gradient+text': () => rgb(svg(
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e3c72"/><stop offset="1" stop-color="#f7b733"/></linearGradient></defs>' +
    '<rect width="224" height="224" fill="url(#g)"/><text x="16" y="120" font-family="sans-serif" font-size="44" font-weight="bold" fill="#fff">memer</text>',
  )),
  shapes: () => rgb(svg(
    '<rect width="224" height="224" fill="#7fb77e"/><circle cx="70" cy="80" r="50" fill="#d62828"/>' +
    '<rect x="120" y="110" width="80" height="90" fill="#003049" transform="rotate(12 160 155)"/><polygon points="30,210 90,130 140,210" fill="#fcbf49"/>',
  )),
  noise: async () => {
    const rng = new Rng(7);
    const raw = Buffer.alloc(SIZE * SIZE * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rng.next() * 256);
    return rgb(sharp(raw, { raw: { width: SIZE, height: SIZE, channels: 3 } }).blur(3).modulate({ saturation: 1.6 }));
  },
};

/** tesseract.js's PNG logo, if the package (a dependency) is installed. */
function realGraphic(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('tesseract.js/package.json');
    const file = join(dirname(pkg), 'docs', 'images', 'tesseract.png');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** The named fixtures ('real' is skipped when its file is absent). */
export async function fixtures(names: readonly string[] = [...Object.keys(MAKERS), 'real']): Promise<Fixture[]> {
  const out: Fixture[] = [];
  for (const name of names) {
    let u8: Uint8Array | undefined;
    if (name === 'real') {
      const file = realGraphic();
      if (file) u8 = await rgb(sharp(file));
    } else {
      u8 = await MAKERS[name]();
    }
    if (u8) out.push({ name, u8, image: toImage(u8) });
  }
  return out;
}
